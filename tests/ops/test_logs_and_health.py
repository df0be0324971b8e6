"""One log setup: a request line per request with its id (also sent as X-Request-Id), socket
connects and disconnects, errors carrying the request id; health and readiness probes."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import pytest
import requests

from dashboard.extensions import socketio
from tests.api.tokens import CLERK_CONFIG, bearer, token_for
from tests.conftest import free_port, get_csrf

from .servers import server_env


def test_every_request_is_logged_with_the_id_it_answers_with(client, caplog):
    caplog.set_level(logging.INFO, logger="chatdesk.request")
    resp = client.get("/login?next=/chat")
    assert "csrf_token" in resp.get_data(as_text=True)  # the line is written once it is sent
    rid = resp.headers["X-Request-Id"]
    (line,) = [r for r in caplog.records if r.name == "chatdesk.request"]
    assert line.request_id == rid
    assert line.fields["method"] == "GET" and line.fields["path"] == "/login"
    assert line.fields["status"] == 200 and line.fields["durationMs"] >= 0
    assert line.getMessage().startswith("GET /login 200 ")
    assert client.get("/login").headers["X-Request-Id"] != rid  # one id per request


def test_socket_connects_and_disconnects_are_logged(app, factory, caplog):
    app.config.update(CLERK_CONFIG)
    caplog.set_level(logging.INFO, logger="chatdesk.sockets")
    user = factory.user()
    sio = socketio.test_client(app, namespace="/chat", auth={"token": token_for(user)})
    assert sio.is_connected("/chat")
    sio.disconnect(namespace="/chat")
    lines = [r.getMessage() for r in caplog.records if r.name == "chatdesk.sockets"]
    assert any(m.startswith(f"socket connected: /chat user {user.id}") for m in lines)
    assert any(m.startswith(f"socket disconnected: /chat user {user.id}") for m in lines)


def test_healthz_and_readyz(client):
    assert client.get("/healthz").get_json() == {"ok": True}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.get_json()
    assert body["ok"] is True and body["checks"]["database"]["ok"] is True
    assert "redis" not in body["checks"]  # not configured


@pytest.mark.redis
def test_readyz_checks_redis_when_configured(app_config, redis_url, request):
    app_config["REDIS_URL"] = redis_url
    client = request.getfixturevalue("client")
    body = client.get("/readyz").get_json()
    assert body["ok"] is True and body["checks"]["redis"]["ok"] is True


@pytest.mark.sqlite_only
def test_database_down_gives_503_json_and_page_not_500(app_config, request):
    user = SimpleNamespace(id="user_2down", username="down", email="d@example.test")
    user.first_name = user.last_name = None
    dead = f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/none"
    app_config.update(CLERK_CONFIG, SQLALCHEMY_DATABASE_URI=dead)
    client = request.getfixturevalue("client")
    api = client.get("/api/v1/me", headers=bearer(user))
    assert api.status_code == 503
    assert api.get_json()["error"]["code"] == "unavailable"
    token = get_csrf(client, "/login")
    page = client.post("/login", data={"username": "a", "password": "b", "csrf_token": token})
    assert page.status_code == 503
    html = page.get_data(as_text=True)
    assert "Briefly unavailable" in html and 'href="/login"' in html  # the dashboard's layout
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["checks"]["database"]["ok"] is False


@pytest.mark.sqlite_only
def test_json_logs_of_a_server_process(app, factory, servers):
    user = factory.user()
    dead = f"postgresql://postgres@127.0.0.1:{free_port()}/none"
    server = servers(server_env(dead, LOG_FORMAT="json"))
    resp = requests.get(server.url + "/api/v1/me", headers=bearer(user), timeout=10)
    assert resp.status_code == 503
    rid = resp.headers["X-Request-Id"]
    server.stop()

    lines = [json.loads(x) for x in server.log().splitlines() if x.startswith("{")]
    assert lines, server.log()
    mine = [x for x in lines if x["requestId"] == rid]
    request_line = next(x for x in mine if x["logger"] == "chatdesk.request")
    assert request_line["method"] == "GET" and request_line["path"] == "/api/v1/me"
    assert request_line["status"] == 503 and request_line["durationMs"] >= 0
    error = next(x for x in mine if x["logger"] == "chatdesk.faults")
    assert error["level"] == "WARNING" and "database unavailable" in error["message"]
    assert any(x.get("asyncMode") == "gevent" for x in lines)
