"""Redis down at start stops the server with a clear message; Redis lost while running degrades
(presence answers `unavailable`, rate limits count in memory), never crashes, and recovers."""

from __future__ import annotations

import sys
import time
import uuid

import pytest
import requests

from tests.api.tokens import bearer
from tests.conftest import TEST_PASSWORD, free_port
from tests.realtime.clients import ChatClient, wait_for

from .servers import server_env
from .test_database_faults import staff_session

pytestmark = pytest.mark.postgres_only


@pytest.mark.parametrize("command", ["gunicorn", "python wsgi.py"])
def test_redis_down_at_start_is_a_clear_error_and_a_non_zero_exit(
    app, servers, database_url, command
):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    argv = None if command == "gunicorn" else [sys.executable, "wsgi.py"]
    server = servers(server_env(database_url, REDIS_URL=dead), wait=False, command=argv)
    assert server.proc is not None
    assert server.proc.wait(90) != 0
    assert f"REDIS_URL is set but Redis at {dead} does not answer" in server.log()


def send_api(url: str, user, thread_id: str) -> requests.Response:  # type: ignore[no-untyped-def]
    body = {"clientId": f"r-{uuid.uuid4()}", "content": "over redis"}
    return requests.post(
        f"{url}/api/v1/threads/{thread_id}/messages", json=body, headers=bearer(user), timeout=10
    )


def test_redis_stops_and_starts_while_serving(app, factory, servers, database_url, redis_process):
    alice, bob, dave = (factory.user() for _ in range(3))
    staff = factory.user(role="support", password=TEST_PASSWORD)
    thread = factory.thread(alice, [bob, dave])
    env = server_env(database_url, REDIS_URL=redis_process.url, PRESENCE_TTL=6)
    server = servers(env)
    listener = ChatClient(server.url, bob).connect()
    clients = [listener]
    try:
        created = send_api(server.url, alice, thread.id).json()
        wait_for(lambda: any(m["id"] == created["id"] for m in listener.received("message:new")))

        redis_process.stop()
        ready = requests.get(server.url + "/readyz", timeout=10)
        assert ready.status_code == 503
        assert ready.json()["checks"]["redis"]["ok"] is False
        assert ready.json()["checks"]["database"]["ok"] is True
        # What needs Redis answers `unavailable`; the rest keeps working.
        presence = requests.get(
            f"{server.url}/api/v1/presence",
            params={"userIds": bob.id},
            headers=bearer(alice),
            timeout=10,
        )
        assert presence.status_code == 503
        assert presence.json()["error"]["code"] == "unavailable"
        ack = listener.call("presence:query", {"userIds": [alice.id]})
        assert ack["ok"] is False and ack["error"]["code"] == "unavailable"
        assert (
            requests.get(server.url + "/api/v1/me", headers=bearer(alice), timeout=10).status_code
            == 200
        )
        assert send_api(server.url, alice, thread.id).status_code == 201
        payload = {"clientId": f"w-{uuid.uuid4()}", "threadId": thread.id, "content": "still"}
        assert listener.call("message:send", payload)["ok"] is True
        late = ChatClient(server.url, dave).connect()  # presence degrades, sockets still open
        clients.append(late)
        staff_session(server.url, staff.username)  # login's rate limit counts in memory
        assert server.alive()

        redis_process.start()
        wait_for(
            lambda: requests.get(server.url + "/readyz", timeout=10).status_code == 200,
            timeout=30,
        )

        def presence_back() -> bool:
            ack = listener.call("presence:query", {"userIds": [dave.id]})
            return bool(ack["ok"]) and ack["presence"][0]["status"] == "online"

        wait_for(presence_back, timeout=30)  # the heartbeat re-registered dave's socket

        def fan_out_back() -> bool:
            sent = send_api(server.url, alice, thread.id).json()
            time.sleep(0.5)
            return any(m["id"] == sent["id"] for m in late.received("message:new"))

        wait_for(fan_out_back, timeout=90)  # the queue listener reconnects with backoff
    finally:
        for c in clients:
            c.disconnect()
    log = server.log()
    assert server.alive()
    assert "redis unavailable" in log and "Traceback" not in log
