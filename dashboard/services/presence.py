"""Who is online: a user is online while any of their connections is open on any process.

Without REDIS_URL the state lives in this process's memory. With it, connections live in Redis
sorted sets scored by an expiry that each process's heartbeat pushes forward, so the users of a
process that crashed go offline within the TTL (a surviving process's sweep notices them).
`lastSeen` is persisted on `User.last_seen_at` when a user's last connection closes.

While Redis is unreachable, presence degrades instead of failing connections: connects and
disconnects are kept in this process's memory only (no presence events), a user's sockets are
this process's ones, reads answer `unavailable`, and the first heartbeat after Redis returns
re-registers this process's connections (a socket that closed meanwhile expires within the
TTL).

Keys: `chatdesk:presence:u:<user id>` (members `<process>:<sid>`), `chatdesk:presence:online`
(members user ids). Which sockets a user has (to end their sessions) is realtime's registry.

The service announces each change itself (`socket_opened` / `socket_closed` / `heartbeat`)
through `dashboard.events`, to the users who share a thread with the user, and to staff.
"""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from .. import events, faults
from ..extensions import db, redis_helper
from ..models import User, utcnow
from ..serializers import presence_json
from . import threads, typing

_lock = threading.Lock()
_connections: dict[str, set[str]] = defaultdict(set)

PREFIX = "chatdesk:"
DEFAULT_TTL = 30


class RedisStore:
    """Connections of every process, in Redis, with a heartbeat TTL."""

    def __init__(self, url: str, ttl: int = DEFAULT_TTL):
        import redis

        # Short timeouts: a Redis that hangs must not hold a connect or the heartbeat for long.
        self.r = redis.Redis.from_url(
            url, decode_responses=True, socket_connect_timeout=2, socket_timeout=2
        )
        self.ttl = ttl
        self.proc = f"{os.getpid()}-{os.urandom(4).hex()}"
        # This process's own connections: what the heartbeat keeps alive.
        self.lock = threading.Lock()
        self.local: dict[str, set[str]] = defaultdict(set)

    def _ukey(self, user_id: str) -> str:
        return f"{PREFIX}presence:u:{user_id}"

    ONLINE = f"{PREFIX}presence:online"

    def connect(self, user_id: str, sid: str) -> bool:
        with self.lock:
            self.local[user_id].add(sid)
        now = time.time()
        exp = now + self.ttl
        p = self.r.pipeline(transaction=True)
        p.zremrangebyscore(self._ukey(user_id), "-inf", now)
        p.zcard(self._ukey(user_id))
        p.zadd(self._ukey(user_id), {f"{self.proc}:{sid}": exp})
        p.expire(self._ukey(user_id), self.ttl * 4)
        p.zadd(self.ONLINE, {user_id: exp})
        _, before, *_ = p.execute()
        return before == 0

    def disconnect(self, user_id: str, sid: str) -> bool:
        with self.lock:
            _discard(self.local, user_id, sid)
        now = time.time()
        p = self.r.pipeline(transaction=True)
        p.zrem(self._ukey(user_id), f"{self.proc}:{sid}")
        p.zremrangebyscore(self._ukey(user_id), "-inf", now)
        p.zcard(self._ukey(user_id))
        removed, _, left = p.execute()
        if removed and left == 0:
            self.r.zrem(self.ONLINE, user_id)
            return True
        return False

    def is_online(self, user_id: str) -> bool:
        return self.r.zcount(self._ukey(user_id), time.time(), "+inf") > 0

    def online_many(self, user_ids: list[str]) -> dict[str, bool]:
        now = time.time()
        p = self.r.pipeline(transaction=False)
        for uid in user_ids:
            p.zcount(self._ukey(uid), now, "+inf")
        return {uid: n > 0 for uid, n in zip(user_ids, p.execute(), strict=True)}

    def online_user_ids(self) -> set[str]:
        return set(self.r.zrangebyscore(self.ONLINE, time.time(), "+inf"))

    def heartbeat(self) -> None:
        """Push this process's connections' expiry forward."""
        with self.lock:
            local = {uid: set(s) for uid, s in self.local.items()}
        exp = time.time() + self.ttl
        p = self.r.pipeline(transaction=False)
        for uid, sids in local.items():
            if sids:
                p.zadd(self._ukey(uid), {f"{self.proc}:{sid}": exp for sid in sids})
                p.expire(self._ukey(uid), self.ttl * 4)
                p.zadd(self.ONLINE, {uid: exp})
        p.execute()

    def sweep(self) -> list[str]:
        """Users whose every connection expired (a crashed process): claim them as offline."""
        now = time.time()
        gone = []
        for uid in self.r.zrangebyscore(self.ONLINE, "-inf", now):
            if self.r.zcount(self._ukey(uid), now, "+inf") == 0 and self.r.zrem(self.ONLINE, uid):
                gone.append(uid)
        return gone

    def reset(self) -> None:
        with self.lock:
            self.local.clear()
        for key in self.r.scan_iter(f"{PREFIX}*"):
            self.r.delete(key)


def _discard(index: dict, key: str, member: object) -> None:
    members = index.get(key)
    if members is not None:
        members.discard(member)
        if not members:
            del index[key]


def _redis() -> RedisStore | None:
    """The Redis store when the current app has REDIS_URL, else None (memory)."""
    return redis_helper("chatdesk_presence", RedisStore)


def _tolerant(call: Any, default: Any, what: str) -> Any:
    """Run a Redis write; while Redis is down, log it (throttled) and answer `default`."""
    try:
        return call()
    except Exception as exc:
        if faults.outage_of(exc) != "redis":
            raise
        faults.report("redis", exc, what)
        return default


def connect(user_id: str, sid: str) -> bool:
    """Record a connection; True when it is the user's first (they just came online)."""
    store = _redis()
    if store:
        return bool(_tolerant(lambda: store.connect(user_id, sid), False, "presence connect"))
    with _lock:
        first = not _connections.get(user_id)
        _connections[user_id].add(sid)
        return first


def disconnect(user_id: str, sid: str) -> bool:
    """Forget a connection; True when it was the user's last (they just went offline)."""
    store = _redis()
    if store:
        return bool(_tolerant(lambda: store.disconnect(user_id, sid), False, "presence disconnect"))
    with _lock:
        conns = _connections.get(user_id)
        if not conns or sid not in conns:
            return False
        _discard(_connections, user_id, sid)
        return user_id not in _connections


def is_online(user_id: str) -> bool:
    """True while the user has an open connection."""
    store = _redis()
    if store:
        return store.is_online(user_id)
    with _lock:
        return bool(_connections.get(user_id))


def online_user_ids() -> set[str]:
    """Everyone online now."""
    store = _redis()
    if store:
        return store.online_user_ids()
    with _lock:
        return {uid for uid, conns in _connections.items() if conns}


def reset() -> None:
    """Forget every connection (tests, and a process that starts over)."""
    with _lock:
        _connections.clear()
    store = _redis()
    if store:
        store.reset()


def heartbeat() -> list[str]:
    """Refresh this process's connections in Redis; announce users who went offline elsewhere."""
    store = _redis()
    if not store:
        return []
    if _tolerant(store.heartbeat, False, "presence heartbeat") is False:
        return []
    gone = _tolerant(store.sweep, [], "presence sweep")
    if gone:
        record_last_seen(gone)
        for uid in gone:
            _announce(uid, online=False)
    return gone


def socket_opened(user_id: str, sid: str) -> None:
    """A socket of `user_id` connected: when it is their first, announce them online."""
    if connect(user_id, sid):
        _announce(user_id, online=True)


def socket_closed(user_id: str, sid: str) -> None:
    """A socket closed: when it was their last, stop their typing, save lastSeen, announce."""
    if disconnect(user_id, sid):
        typing.stop_all(user_id)
        record_last_seen([user_id])
        _announce(user_id, online=False)


def _announce(user_id: str, *, online: bool) -> None:
    """`presence` to the users who share a thread with `user_id` (and to staff)."""
    others = threads.co_participant_ids(user_id)
    # Hand the database connection back before the broadcast: with a 1,000-member thread the
    # emit is the slow part, and a connect storm must not hold the whole pool.
    db.session.rollback()
    events.presence(payload(user_id, online), others)


def record_last_seen(user_ids: Iterable[str]) -> None:
    """Persist `lastSeen` (now) for users whose last connection closed."""
    ids = list(user_ids)
    if not ids:
        return
    db.session.execute(
        sa.update(User)
        .where(User.id.in_(ids))
        .values(last_seen_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def info(user_ids: Iterable[str]) -> list[dict[str, Any]]:
    """PresenceInfo for each existing user id (unknown ids are left out)."""
    ids = list(dict.fromkeys(u for u in user_ids if isinstance(u, str)))[:200]
    if not ids:
        return []
    seen = dict(
        db.session.execute(sa.select(User.id, User.last_seen_at).where(User.id.in_(ids))).all()
    )
    store = _redis()
    if store:
        online = store.online_many([u for u in ids if u in seen])
    else:
        with _lock:
            online = {u: bool(_connections.get(u)) for u in ids}
    return [presence_json(u, online.get(u, False), seen[u]) for u in ids if u in seen]


def payload(user_id: str, online: bool) -> dict[str, Any]:
    """PresenceInfo for a user who just came online or went offline (lastSeen: now if offline)."""
    return presence_json(user_id, online, None if online else utcnow())
