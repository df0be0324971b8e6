"""Logout ends the session everywhere; remember-me cookies are Secure and bounded."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie

import pytest
from flask_login.utils import encode_cookie

from dashboard import create_app
from dashboard.extensions import db, socketio
from dashboard.models import User
from tests.api.tokens import token_for
from tests.conftest import TEST_PASSWORD, get_csrf


def log_in(client, user, remember=False):  # type: ignore[no-untyped-def]
    data = {"username": user.username, "password": TEST_PASSWORD}
    if remember:
        data["remember"] = "y"
    resp = client.post("/login", data={**data, "csrf_token": get_csrf(client, "/login")})
    assert resp.status_code == 302
    return resp


def log_out(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.post("/logout", data={"csrf_token": get_csrf(client, "/logout")})
    assert resp.status_code == 302


def with_cookie(app, name: str, value: str):  # type: ignore[no-untyped-def]
    """A fresh client (another browser) holding one copied cookie."""
    other = app.test_client()
    other.set_cookie(name, value)
    return other


def set_cookie_header(resp, name: str) -> str:  # type: ignore[no-untyped-def]
    for header in resp.headers.getlist("Set-Cookie"):
        if header.startswith(name + "="):
            return header
    raise AssertionError(f"no {name} cookie set")


def test_a_copied_session_cookie_stops_working_after_logout(app, client, factory):
    user = factory.user(password=TEST_PASSWORD)
    log_in(client, user)
    stolen = client.get_cookie("session").value
    assert with_cookie(app, "session", stolen).get("/chat/").status_code == 200
    log_out(client)
    copy = with_cookie(app, "session", stolen)
    assert copy.get("/chat/").status_code == 302
    assert copy.get("/api/v1/me").status_code == 401


def test_a_copied_remember_cookie_stops_working_after_logout(app, client, factory):
    user = factory.user(password=TEST_PASSWORD)
    log_in(client, user, remember=True)
    remember = client.get_cookie("remember_token").value
    assert with_cookie(app, "remember_token", remember).get("/chat/").status_code == 200
    log_out(client)
    assert with_cookie(app, "remember_token", remember).get("/chat/").status_code == 302


def test_logout_on_one_process_ends_the_session_on_another(app, app_config, client, factory):
    """Two app instances on one database stand for two processes behind a proxy."""
    other_process = create_app(app_config)
    user = factory.user(password=TEST_PASSWORD)
    log_in(client, user, remember=True)
    session_cookie = client.get_cookie("session").value
    remember = client.get_cookie("remember_token").value
    elsewhere = other_process.test_client()
    elsewhere.set_cookie("session", session_cookie)
    elsewhere.set_cookie("remember_token", remember)
    assert elsewhere.get("/chat/").status_code == 200
    log_out(client)
    assert elsewhere.get("/chat/").status_code == 302
    with other_process.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


def test_logging_in_again_after_logout_works_and_the_old_cookie_stays_dead(app, client, factory):
    user = factory.user(password=TEST_PASSWORD)
    log_in(client, user)
    old = client.get_cookie("session").value
    log_out(client)
    log_in(client, user)
    assert client.get("/chat/").status_code == 200
    assert with_cookie(app, "session", old).get("/chat/").status_code == 302


def test_logout_drops_the_users_open_sockets(app, client, factory):
    user = factory.user(password=TEST_PASSWORD)
    log_in(client, user)
    sock = socketio.test_client(app, namespace="/chat", auth={"token": token_for(user)})
    assert sock.is_connected("/chat")
    log_out(client)
    assert not sock.is_connected("/chat")


@pytest.mark.parametrize("secure", [True, False])
def test_remember_cookie_is_secure_when_sessions_are(app_config, factory, secure):
    app = create_app({**app_config, "SESSION_COOKIE_SECURE": secure})
    user = factory.user(password=TEST_PASSWORD)
    client = app.test_client()
    resp = log_in(client, user, remember=True)
    header = set_cookie_header(resp, "remember_token")
    assert ("Secure" in header) is secure
    assert "HttpOnly" in header


@pytest.mark.parametrize(("days", "expected"), [(None, 30), (7, 7)])
def test_remember_cookie_lasts_a_bounded_configurable_time(app_config, factory, days, expected):
    config = dict(app_config)
    if days is not None:
        config["SESSION_DAYS"] = days
    app = create_app(config)
    user = factory.user(password=TEST_PASSWORD)
    resp = log_in(app.test_client(), user, remember=True)
    morsel = SimpleCookie(set_cookie_header(resp, "remember_token"))["remember_token"]
    expires = datetime.strptime(morsel["expires"], "%a, %d %b %Y %H:%M:%S GMT")
    left = expires.replace(tzinfo=UTC) - datetime.now(UTC)
    assert timedelta(days=expected) - timedelta(minutes=5) < left <= timedelta(days=expected)


def test_a_remember_cookie_older_than_the_session_lifetime_is_refused(app, factory):
    user = factory.user(password=TEST_PASSWORD)
    day = 24 * 3600
    with app.test_request_context():
        fresh = encode_cookie(f"{user.id}|{user.session_version}|{int(time.time()) - day}")
        stale = encode_cookie(f"{user.id}|{user.session_version}|{int(time.time()) - 31 * day}")
        legacy = encode_cookie(f"{user.id}|{user.session_version}")  # no login time at all
    assert with_cookie(app, "remember_token", fresh).get("/chat/").status_code == 200
    assert with_cookie(app, "remember_token", stale).get("/chat/").status_code == 302
    assert with_cookie(app, "remember_token", legacy).get("/chat/").status_code == 302


def test_a_forged_remember_cookie_is_refused(app, factory):
    user = factory.user(password=TEST_PASSWORD)
    forged = f"{user.id}|{user.session_version}|{int(time.time())}|" + "0" * 128
    assert with_cookie(app, "remember_token", forged).get("/chat/").status_code == 302


def test_logout_leaves_other_users_logged_in(app, client, factory):
    alice = factory.user(password=TEST_PASSWORD)
    bob = factory.user(password=TEST_PASSWORD)
    bobs = app.test_client()
    log_in(bobs, bob)
    log_in(client, alice)
    log_out(client)
    assert bobs.get("/chat/").status_code == 200
    with app.app_context():
        assert db.session.get(User, bob.id).session_version == bob.session_version
