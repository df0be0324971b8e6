"""Presence: first/last connection, the Redis store's TTL, lastSeen persisted."""

from __future__ import annotations

import time

import pytest

from dashboard.extensions import db
from dashboard.models import User
from dashboard.services import presence


@pytest.fixture(autouse=True)
def _fresh():
    presence.reset()
    yield
    presence.reset()


def test_memory_store_first_and_last_connection():
    assert presence.connect("u1", "s1") is True
    assert presence.connect("u1", "s2") is False
    assert presence.is_online("u1") and presence.online_user_ids() == {"u1"}
    assert presence.disconnect("u1", "s1") is False
    assert presence.disconnect("u1", "s2") is True
    assert not presence.is_online("u1")
    assert presence.disconnect("u1", "s2") is False  # twice is harmless


@pytest.mark.redis
@pytest.mark.sqlite_only
def test_redis_store_is_shared_and_expires_without_heartbeat(app, factory, redis_url):
    app.config["REDIS_URL"] = redis_url
    app.config["PRESENCE_TTL"] = 1
    alice = factory.user()
    with app.app_context():
        presence.reset()
        assert presence.connect(alice.id, "sid-a") is True
        # What another process sees: a store of its own on the same Redis.
        other = presence.RedisStore(redis_url, ttl=1)
        assert other.is_online(alice.id)
        assert alice.id in other.online_user_ids()
        time.sleep(1.2)  # no heartbeat: the entry expires, as if this process had crashed
        assert not other.is_online(alice.id)
        assert other.sweep() == [alice.id]
        assert other.sweep() == []  # claimed once only


def test_info_and_last_seen(app, factory):
    alice, bob = factory.user(), factory.user()
    with app.app_context():
        presence.connect(alice.id, "s")
        presence.record_last_seen([bob.id])
        got = {p["userId"]: p for p in presence.info([alice.id, bob.id, "ghost"])}
        assert got[alice.id]["status"] == "online" and got[alice.id]["lastSeen"] is None
        assert got[bob.id]["status"] == "offline" and got[bob.id]["lastSeen"]
        assert "ghost" not in got
        assert db.session.get(User, bob.id).last_seen_at is not None
