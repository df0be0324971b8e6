"""CSRF is skipped only for a request authenticated by a valid bearer token.

A refused token never turns a cookie request into a token request: with a session cookie it is
a cookie request, so an unsafe method needs the CSRF token; the token, when valid, is the only
credential of its request.
"""

from __future__ import annotations

import time

import jwt
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric import rsa

from dashboard.extensions import db
from dashboard.models import Message, Thread
from tests.api.tokens import ISSUER, PARTY, bearer, token_for
from tests.conftest import TEST_PASSWORD, get_csrf

OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def bad_tokens(user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Tokens that must be refused: garbage, expired, signed by another key, wrong issuer."""
    now = int(time.time())
    claims = {"sub": user.id, "iss": ISSUER, "azp": PARTY, "nbf": now - 5, "exp": now + 600}
    return {
        "garbage": "not-a-jwt",
        "expired": jwt.encode({**claims, "exp": now - 60}, _test_key(), algorithm="RS256"),
        "other-key": jwt.encode(claims, OTHER_KEY, algorithm="RS256"),
        "wrong-issuer": jwt.encode(
            {**claims, "iss": "https://evil"}, _test_key(), algorithm="RS256"
        ),
    }


def _test_key():  # type: ignore[no-untyped-def]
    from tests.api import tokens

    return tokens._KEY


def thread_count(app) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Thread)) or 0


def login(client, factory):  # type: ignore[no-untyped-def]
    user = factory.user(password=TEST_PASSWORD)
    data = {"username": user.username, "password": TEST_PASSWORD}
    resp = client.post("/login", data={**data, "csrf_token": get_csrf(client, "/login")})
    assert resp.status_code == 302
    return user


@pytest.mark.parametrize("kind", ["garbage", "expired", "other-key", "wrong-issuer"])
def test_an_invalid_bearer_with_a_session_cookie_still_needs_the_csrf_token(
    app, client, factory, kind
):
    user = login(client, factory)
    headers = {"Authorization": f"Bearer {bad_tokens(user)[kind]}"}
    resp = client.post("/api/v1/threads", json={"title": "forged"}, headers=headers)
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert resp.is_json and resp.get_json()["error"]["code"] == "bad_request"
    assert thread_count(app) == 0


def test_an_invalid_bearer_cannot_delete_a_message_through_the_cookie(app, client, factory):
    user = login(client, factory)
    thread = factory.thread(user)
    msg = factory.message(thread, user, "keep me")
    headers = {"Authorization": "Bearer " + bad_tokens(user)["other-key"]}
    resp = client.delete(f"/api/v1/messages/{msg.id}", headers=headers)
    assert resp.status_code == 400
    with app.app_context():
        assert db.session.get(Message, msg.id).deleted_at is None


def test_an_invalid_bearer_with_the_cookie_and_the_csrf_token_acts_as_the_cookie_user(
    app, client, factory
):
    user = login(client, factory)
    csrf = get_csrf(client, "/chat/")
    headers = {"Authorization": "Bearer not-a-jwt", "X-CSRFToken": csrf}
    resp = client.post("/api/v1/threads", json={"title": "mine"}, headers=headers)
    assert resp.status_code == 201
    assert resp.get_json()["creatorId"] == user.id


def test_an_invalid_bearer_without_a_cookie_is_401(client, factory):
    user = factory.user()
    resp = client.post(
        "/api/v1/threads",
        json={"title": "x"},
        headers={"Authorization": "Bearer " + bad_tokens(user)["expired"]},
    )
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "unauthorized"


def test_a_valid_bearer_is_the_only_credential_of_its_request(app, client, factory):
    """Cookie of A plus token of B: the request is B's (never A's without A's CSRF token)."""
    alice = login(client, factory)
    bob = factory.user()
    resp = client.post("/api/v1/threads", json={"title": "by token"}, headers=bearer(bob))
    assert resp.status_code == 201
    assert resp.get_json()["creatorId"] == bob.id
    assert client.get("/api/v1/me", headers=bearer(bob)).get_json()["id"] == bob.id
    assert client.get("/api/v1/me").get_json()["id"] == alice.id


def test_a_bearer_token_does_not_log_anyone_in_to_pages(client, factory):
    """Tokens are for the API; pages and their forms go by the cookie (and its CSRF token)."""
    user = factory.user(role="admin")
    resp = client.get("/dashboard/", headers={"Authorization": f"Bearer {token_for(user)}"})
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")
