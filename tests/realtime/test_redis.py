"""Two server processes sharing Redis and PostgreSQL behave as one (SPEC §1 production)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
import requests

from dashboard.realtime import broadcast
from tests.api.tokens import ISSUER, PARTY, PUBLIC_PEM
from tests.conftest import free_port

from .clients import ChatClient, wait_for

ROOT = Path(__file__).resolve().parents[2]

SERVE = """
from dashboard import create_app
from dashboard.extensions import socketio
app = create_app({"PRESENCE_TTL": 6})
socketio.run(app, host=app.config["HOST"], port=app.config["PORT"], allow_unsafe_werkzeug=True)
"""

pytestmark = [pytest.mark.redis, pytest.mark.postgres_only]


@pytest.fixture(autouse=True)
def _forget_the_queue():
    """create_app keeps the Redis client manager in the shared SocketIO's options: drop it after."""
    yield
    from dashboard.extensions import socketio

    socketio.server_options.pop("client_manager", None)


@pytest.fixture
def app_config(app_config, redis_url):
    app_config.update(REDIS_URL=redis_url, PRESENCE_TTL=6)
    return app_config


@pytest.fixture
def second_server(app_config, redis_url, tmp_path):
    """A second server process like `python wsgi.py`: same database, same Redis, short TTL."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": app_config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": redis_url,
        "SECRET_KEY": "second-server",
        "CLERK_JWT_KEY": PUBLIC_PEM,
        "CLERK_ISSUER": ISSUER,
        "CLERK_AUTHORIZED_PARTIES": PARTY,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "UPLOAD_DIR": str(tmp_path / "uploads2"),
    }
    log = open(tmp_path / "second.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(url + "/api/v1/openapi.json", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise AssertionError((tmp_path / "second.log").read_text()[-3000:])
            time.sleep(0.2)
        yield proc, url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def test_messages_presence_and_session_end_cross_processes(
    app, factory, live_server, second_server, redis_url
):
    redis.Redis.from_url(redis_url).flushdb()
    alice, bob = factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    bob_on_b = ChatClient(second_server[1], bob).connect()
    alice_on_a = ChatClient(live_server.url, alice).connect()
    try:
        # Alice's presence (process A) reaches Bob (process B) and is visible from B.
        online = wait_for(lambda: bob_on_b.received("presence"))
        assert online[0]["userId"] == alice.id and online[0]["status"] == "online"
        res = bob_on_b.call("presence:query", {"userIds": [alice.id]})
        assert res["presence"][0]["status"] == "online"

        sent = alice_on_a.call(
            "message:send", {"clientId": "x", "threadId": thread.id, "content": "across"}
        )
        assert sent["ok"]
        got = wait_for(lambda: bob_on_b.received("message:new"))
        assert got[0]["id"] == sent["message"]["id"]
        reply = bob_on_b.call(
            "message:send", {"clientId": "y", "threadId": thread.id, "content": "back"}
        )
        assert reply["ok"]
        assert wait_for(lambda: alice_on_a.received("message:new")[1:])[0]["content"] == "back"

        # Ending Bob's sessions from process A drops his socket on process B.
        with app.app_context():
            broadcast.end_user_sessions(bob.id)
        wait_for(lambda: not bob_on_b.sio.connected)
        with app.app_context():
            from dashboard.services import presence

            wait_for(lambda: not presence.is_online(bob.id))
    finally:
        alice_on_a.disconnect()
        bob_on_b.disconnect()


def test_a_crashed_processs_users_go_offline_within_the_ttl(
    app, factory, live_server, second_server, redis_url
):
    redis.Redis.from_url(redis_url).flushdb()
    proc, url = second_server
    alice, bob = factory.user(), factory.user()
    factory.thread(alice, [bob])
    alice_on_a = ChatClient(live_server.url, alice).connect()
    ChatClient(url, bob).connect()  # dies with its server
    try:
        wait_for(lambda: alice_on_a.received("presence"))
        proc.kill()  # no disconnect handler runs: only the TTL can tell
        proc.wait(timeout=10)
        offline = wait_for(
            lambda: [p for p in alice_on_a.received("presence") if p["status"] == "offline"],
            timeout=20,
        )
        assert offline[0]["userId"] == bob.id
        with app.app_context():
            from dashboard.extensions import db
            from dashboard.models import User
            from dashboard.services import presence

            assert not presence.is_online(bob.id)
            assert db.session.get(User, bob.id).last_seen_at is not None
    finally:
        alice_on_a.disconnect()
