"""Clerk session tokens: RS256, verified offline; users created or updated from the claims."""

import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from dashboard.extensions import db
from dashboard.models import User

ISSUER = "https://clerk.chatdesk.test"
PARTY = "https://app.chatdesk.test"


def _keypair():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return key, pem


KEY, PUBLIC_PEM = _keypair()
OTHER_KEY, _ = _keypair()


def token(key=KEY, **overrides):
    now = int(time.time())
    claims = {
        "sub": "user_2abcDEF",
        "iss": ISSUER,
        "azp": PARTY,
        "iat": now,
        "nbf": now - 5,
        "exp": now + 60,
        "username": "clerky",
        "email": "clerky@example.test",
        "first_name": "Clara",
        "last_name": "Kerr",
        "image_url": "https://img.example.test/c.png",
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm="RS256")


@pytest.fixture
def app_config(app_config):
    app_config.update(
        CLERK_JWT_KEY=PUBLIC_PEM, CLERK_ISSUER=ISSUER, CLERK_AUTHORIZED_PARTIES=[PARTY]
    )
    return app_config


def me(client, tok):
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {tok}"})


def test_valid_token_creates_the_user_from_claims(app, client):
    resp = me(client, token())
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["id"] == "user_2abcDEF"
    assert body["username"] == "clerky"
    assert body["firstName"] == "Clara" and body["imageUrl"] == "https://img.example.test/c.png"
    with app.app_context():
        assert db.session.get(User, "user_2abcDEF").email == "clerky@example.test"


def test_later_token_updates_the_user(app, client):
    me(client, token())
    resp = me(client, token(first_name="Clarissa", username="clerky2"))
    assert resp.get_json()["firstName"] == "Clarissa"
    assert resp.get_json()["username"] == "clerky2"


def test_missing_username_is_derived_from_email_then_id(client):
    assert me(client, token(username=None)).get_json()["username"] == "clerky"
    body = me(client, token(sub="user_9zz", username=None, email=None)).get_json()
    assert body["username"] == "user_9zz"


@pytest.mark.parametrize(
    "bad",
    [
        # Offsets from now, made into times when the test runs (collection may be long before).
        pytest.param({"exp": -120}, id="expired"),
        pytest.param({"nbf": 600}, id="not-yet-valid"),
        pytest.param({"key": OTHER_KEY}, id="wrong-key"),
        pytest.param({"azp": "https://evil.example"}, id="wrong-azp"),
        pytest.param({"iss": "https://evil.example"}, id="wrong-issuer"),
        pytest.param({"sub": None}, id="no-subject"),
    ],
)
def test_bad_tokens_are_refused_with_json_401(app, client, bad):
    bad = dict(bad)  # the param dict is shared between backends
    for claim in ("exp", "nbf"):
        if claim in bad:
            bad[claim] = int(time.time()) + bad[claim]
    key = bad.pop("key", KEY)
    resp = me(client, token(key=key, **bad))
    assert resp.status_code == 401
    assert resp.get_json()["error"]["code"] == "unauthorized"
    with app.app_context():
        assert db.session.get(User, "user_2abcDEF") is None


def test_hs256_and_unsigned_tokens_are_refused(client):
    now = int(time.time())
    claims = {"sub": "user_x", "exp": now + 60, "iss": ISSUER, "azp": PARTY}
    hs256 = jwt.encode(claims, "a-shared-secret-that-is-long-enough-for-hs256", algorithm="HS256")
    unsigned = jwt.encode(claims, None, algorithm="none")
    for forged in (hs256, unsigned, "garbage"):
        assert me(client, forged).status_code == 401


def test_unchanged_claims_do_not_rewrite_the_user(app, client):
    me(client, token())
    with app.app_context():
        first = db.session.get(User, "user_2abcDEF").updated_at
    me(client, token())
    with app.app_context():
        assert db.session.get(User, "user_2abcDEF").updated_at == first


def test_deactivated_users_token_is_refused(app, client):
    assert me(client, token()).status_code == 200
    with app.app_context():
        db.session.get(User, "user_2abcDEF").is_active = False
        db.session.commit()
    assert me(client, token()).status_code == 401


def test_token_email_owned_by_another_account_is_not_taken(app, client, factory):
    factory.user(username="owner", email="clerky@example.test")
    body = me(client, token()).get_json()
    assert body["email"] is None


def test_without_a_configured_key_tokens_are_refused(app, client):
    app.config["CLERK_JWT_KEY"] = None
    assert me(client, token()).status_code == 401
