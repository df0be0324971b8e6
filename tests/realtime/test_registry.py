"""The socket registry: this process's sockets from the server's rooms, others' from Redis."""

from __future__ import annotations

import time

import pytest

from dashboard.realtime import registry


@pytest.mark.redis
@pytest.mark.sqlite_only
def test_redis_entries_reach_other_processes_and_expire_without_heartbeat(app, redis_url):
    app.config["REDIS_URL"] = redis_url
    app.config["PRESENCE_TTL"] = 1
    with app.app_context():
        registry.add("u-alice", registry.CHAT, "sid-a")
        registry.add("u-alice", registry.LIVE, "sid-b")
        assert registry.sockets_of("u-alice") == {("/chat", "sid-a"), ("/live", "sid-b")}
        assert registry.sockets_of("u-alice", registry.LIVE) == {("/live", "sid-b")}
        # What another process sees: a store of its own on the same Redis.
        other = registry.RedisSockets(redis_url, ttl=1)
        assert ("/chat", "sid-a") in other.sockets_of("u-alice")
        time.sleep(1.2)  # no heartbeat: the entries expire, as if this process had crashed
        assert other.sockets_of("u-alice") == set()
        registry.heartbeat()  # this process is alive: its sockets come back
        assert other.sockets_of("u-alice") == {("/chat", "sid-a"), ("/live", "sid-b")}
        registry.remove("u-alice", registry.CHAT, "sid-a")
        assert other.sockets_of("u-alice") == {("/live", "sid-b")}


def test_without_redis_the_list_is_the_servers_own_rooms(app, factory, socket_client):
    alice = factory.user(role="support")
    chat = socket_client(alice)
    live = socket_client(alice, namespace="/live")
    assert chat.is_connected("/chat") and live.is_connected("/live")
    with app.app_context():
        found = registry.sockets_of(alice.id)
    assert {ns for ns, _ in found} == {"/chat", "/live"} and len(found) == 2
    chat.disconnect(namespace="/chat")
    with app.app_context():
        assert {ns for ns, _ in registry.sockets_of(alice.id)} == {"/live"}
