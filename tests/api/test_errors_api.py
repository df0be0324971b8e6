"""Errors under /api are always JSON; cookie callers need the CSRF token, bearer callers not."""

from __future__ import annotations

import pytest

from tests.conftest import get_csrf


def _is_error(resp, status, code):
    assert resp.status_code == status
    assert resp.is_json, resp.get_data(as_text=True)[:200]
    err = resp.get_json()["error"]
    assert err["code"] == code and err["message"] and isinstance(err["details"], dict)


def test_unknown_path_and_method(api, factory):
    alice = factory.user()
    _is_error(api.get("/nothing-here", alice), 404, "not_found")
    _is_error(api.call("PUT", "/threads", alice), 405, "bad_request")


def test_non_json_body_is_400(api, factory):
    alice = factory.user()
    resp = api.post("/threads", alice, data="title=x", content_type="text/plain")
    _is_error(resp, 400, "bad_request")
    _is_error(api.post("/threads", alice, json=[1, 2]), 400, "bad_request")


def test_cookie_caller_needs_csrf_header(client, login_as, factory):
    token = get_csrf(client, "/login")  # the session keeps its CSRF secret across the login
    alice = login_as("user")
    thread = factory.thread(alice, [])
    path = f"/api/v1/threads/{thread.id}/messages"
    resp = client.post(path, json={"content": "no token"})
    _is_error(resp, 400, "bad_request")
    assert resp.get_json()["error"]["details"] == {"reason": "csrf"}
    ok = client.post(path, json={"content": "with token"}, headers={"X-CSRFToken": token})
    assert ok.status_code == 201
    assert client.get(f"/api/v1/threads/{thread.id}").status_code == 200


def test_bearer_caller_needs_no_csrf(api, factory):
    alice = factory.user()
    resp = api.post("/threads", alice, json={"title": "t", "participantIds": []})
    assert resp.status_code == 201


def test_bad_or_expired_token_is_401(client):
    resp = client.get("/api/v1/me", headers={"Authorization": "Bearer not.a.token"})
    _is_error(resp, 401, "unauthorized")


@pytest.mark.sqlite_only
def test_unexpected_error_is_json_500(api, factory, app, monkeypatch):
    from dashboard.services import threads

    def boom(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(threads, "list_threads", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    _is_error(api.get("/threads", factory.user()), 500, "internal_error")


def test_nul_characters_are_refused_not_crashed_on(api, factory, app):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    alice = factory.user()
    thread = factory.thread(alice, [])
    resp = api.post(f"/threads/{thread.id}/messages", alice, json={"content": "a\x00b"})
    _is_error(resp, 400, "bad_request")
    _is_error(
        api.post("/threads", alice, json={"title": "a\x00", "participantIds": []}),
        400,
        "bad_request",
    )
    _is_error(api.get("/threads/a%00b", alice), 400, "bad_request")
    _is_error(api.get("/users?q=a%00b", alice), 400, "bad_request")


@pytest.mark.postgres_only
def test_a_connection_the_server_drops_after_the_answer_keeps_the_answer(api, factory, app):
    """PostgreSQL goes away between a request's last query and its end: the answer already
    built is sent (not the server's bare 500), and the next request gets a new connection."""
    import sqlalchemy as sa

    from dashboard.extensions import db

    alice = factory.user()
    dropped: list[int] = []
    killer = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"], isolation_level="AUTOCOMMIT")

    @app.after_request
    def drop_the_connection(resp):  # type: ignore[no-untyped-def]
        if not dropped:
            pid = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
            with killer.connect() as conn:
                conn.execute(sa.text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
            dropped.append(pid)
        return resp

    try:
        first = api.get("/me", alice)
        assert first.status_code == 200 and first.get_json()["id"] == alice.id
        second = api.get("/me", alice)
        assert second.status_code == 200 and second.get_json()["id"] == alice.id
    finally:
        killer.dispose()
    assert dropped
    with app.app_context():
        pid = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    assert pid != dropped[0]
