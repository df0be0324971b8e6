"""The production command: gevent under gunicorn, a socket cap that refuses quickly while HTTP
keeps answering, and the async mode chosen by the server that runs the app."""

from __future__ import annotations

import sys

import pytest
import requests
import socketio

from dashboard.extensions import socketio as app_socketio
from tests.api.tokens import bearer
from tests.realtime.clients import ChatClient, wait_for

from .servers import server_env

pytestmark = pytest.mark.postgres_only
CAP = 12


def test_http_keeps_answering_at_the_socket_cap_and_one_more_socket_is_refused(
    app, factory, servers, database_url
):
    users = [factory.user() for _ in range(CAP + 1)]
    server = servers(server_env(database_url, MAX_SOCKETS=CAP))
    assert "Using worker: gevent" in server.log()
    wait_for(lambda: "async_mode=gevent" in server.log())

    clients = [ChatClient(server.url, u).connect() for u in users[:CAP]]
    try:
        # At the cap, HTTP still answers: pages, the API and the probes.
        assert requests.get(server.url + "/healthz", timeout=10).status_code == 200
        assert requests.get(server.url + "/login", timeout=10).status_code == 200
        me = requests.get(server.url + "/api/v1/me", headers=bearer(users[0]), timeout=10)
        assert me.status_code == 200 and me.json()["id"] == users[0].id

        # One socket more is refused with an answer (503), not queued.
        handshake = requests.get(
            server.url + "/socket.io/", params={"EIO": "4", "transport": "polling"}, timeout=10
        )
        assert handshake.status_code == 503
        assert handshake.json()["error"]["code"] == "unavailable"
        extra = ChatClient(server.url, users[CAP])
        with pytest.raises(socketio.exceptions.ConnectionError):
            extra.connect()

        # A closed socket frees its slot.
        clients.pop().disconnect()

        def reconnects() -> ChatClient | None:
            try:
                return ChatClient(server.url, users[CAP]).connect()
            except socketio.exceptions.ConnectionError:
                return None

        clients.append(wait_for(reconnects))
        assert all(c.sio.connected for c in clients)
    finally:
        for c in clients:
            c.disconnect()


def test_python_wsgi_py_serves_on_threads(app, factory, servers, database_url):
    user = factory.user()
    server = servers(server_env(database_url), command=[sys.executable, "wsgi.py"])
    client = ChatClient(server.url, user).connect()
    try:
        ack = client.call("presence:query", {"userIds": [user.id]})
        assert ack["ok"] and ack["presence"][0]["status"] == "online"
    finally:
        client.disconnect()
    assert "async_mode=threading" in server.log()
    assert "gevent" not in server.log().replace("async_mode=threading", "")
    # One "Serving on" line (`make run` prints nothing else about it), no banner, no warnings.
    log = server.log()
    assert log.count("Serving on http://") == 1, log
    for noise in ("development server", "production deployment", "Serving Flask app", "WARNING"):
        assert noise not in log, log


def test_the_test_client_and_the_cli_run_on_threads(app):
    assert app_socketio.async_mode == "threading"
    assert "gevent.monkey" not in sys.modules or not sys.modules["gevent.monkey"].saved
