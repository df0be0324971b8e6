"""Clerk tokens verified against a JWKS: keys by kid, rotation, a rate-limited refresh, outages."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from dashboard import create_app
from dashboard.auth.loaders import JWKS_EXTENSION

from .conftest import ISSUER, PARTY, Clock, SigningKey

pytestmark = pytest.mark.sqlite_only  # the key cache does not touch the database

TTL = 300
MIN_REFRESH = 30


@pytest.fixture
def app_config(app_config: dict[str, Any], jwks_server) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The app trusts the test's JWKS server (no CLERK_JWT_KEY)."""
    app_config.update(
        CLERK_JWT_KEY=None,
        CLERK_JWKS_URL=jwks_server.url,
        CLERK_ISSUER=ISSUER,
        CLERK_AUTHORIZED_PARTIES=[PARTY],
        CLERK_JWKS_CACHE_SECONDS=TTL,
        CLERK_JWKS_MIN_REFRESH_SECONDS=MIN_REFRESH,
    )
    return app_config


@pytest.fixture
def clock(app) -> Clock:  # type: ignore[no-untyped-def]
    """The key cache's clock, moved by the test instead of by waiting."""
    clock = Clock()
    app.extensions[JWKS_EXTENSION].clock = clock
    return clock


def me(client, key: SigningKey, sub: str = "user_2jwksTEST") -> int:  # type: ignore[no-untyped-def]
    resp = client.get("/api/v1/me", headers={"Authorization": f"Bearer {key.token(sub)}"})
    if resp.status_code == 200:
        assert resp.get_json()["id"] == sub
    return resp.status_code


def test_rotation_is_picked_up_without_a_restart(client, jwks_server, clock):
    key_a, key_b = SigningKey("key-a"), SigningKey("key-b")
    jwks_server.keys = [key_a]
    assert me(client, key_a) == 200
    assert me(client, key_a) == 200
    assert jwks_server.requests == 1  # cached, not fetched per request

    jwks_server.keys = [key_b]  # Clerk rotates: A is gone, B signs from now on
    clock.advance(MIN_REFRESH + 1)
    assert me(client, key_b) == 200  # unknown kid: one refresh finds B
    assert jwks_server.requests == 2
    assert me(client, key_a) == 401  # A is no longer published


def test_a_flood_of_unknown_kids_fetches_at_most_once_per_interval(client, jwks_server, clock):
    good = SigningKey("good")
    jwks_server.keys = [good]
    assert me(client, good) == 200
    assert jwks_server.requests == 1

    bogus = [SigningKey(f"bogus-{i}") for i in range(3)]
    clock.advance(MIN_REFRESH + 1)
    for i in range(60):
        assert me(client, bogus[i % 3]) == 401
    assert jwks_server.requests == 2  # one refresh for the whole flood

    for i in range(30):  # still inside the interval: no fetch at all
        assert me(client, bogus[i % 3]) == 401
    assert jwks_server.requests == 2
    assert me(client, good) == 200  # real users are unaffected

    clock.advance(MIN_REFRESH + 1)
    for i in range(30):
        assert me(client, bogus[i % 3]) == 401
    assert jwks_server.requests == 3


def test_jwks_server_down_keeps_cached_keys_working(client, jwks_server, clock, caplog):
    key = SigningKey("steady")
    jwks_server.keys = [key]
    assert me(client, key) == 200
    jwks_server.stop()

    clock.advance(TTL + 1)  # the cache is due a refresh, and the fetch fails
    with caplog.at_level(logging.WARNING, logger="dashboard.auth.jwks"):
        assert me(client, key) == 200
    assert any("keeping 1 cached key" in r.getMessage() for r in caplog.records)
    assert me(client, SigningKey("new-while-down")) == 401
    clock.advance(TTL + 1)
    assert me(client, key) == 200


def test_a_token_without_kid_or_signed_by_another_key_is_refused(client, jwks_server, clock):
    key = SigningKey("only")
    jwks_server.keys = [key]
    forged = SigningKey("only")  # same kid, different key: the signature must not verify
    assert me(client, forged) == 401
    assert me(client, key) == 200


def test_empty_authorized_parties_warns_at_startup(app_config, caplog):
    app_config["CLERK_AUTHORIZED_PARTIES"] = []
    with caplog.at_level(logging.WARNING):
        create_app(app_config)
    assert any("CLERK_AUTHORIZED_PARTIES is empty" in r.getMessage() for r in caplog.records)


def test_authorized_parties_set_gives_no_warning(app_config, caplog):
    with caplog.at_level(logging.WARNING):
        create_app(app_config)
    assert not any("CLERK_AUTHORIZED_PARTIES" in r.getMessage() for r in caplog.records)
