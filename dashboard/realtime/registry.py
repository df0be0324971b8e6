"""Which sockets a user has open, for ending their sessions or moving them between rooms.

The list is keyed by the server's own connect and disconnect only (`base.ServerNamespace`
refuses the lifecycle names when a client sends them as events). On this process the
Socket.IO server's own rooms are the list: every socket joins `user:<id>` on connect. With
REDIS_URL each socket is also written to `chatdesk:sockets:<user id>` (members
`<namespace>|<sid>`) with a heartbeat TTL, so a process can reach the sockets another holds:
python-socketio forwards a disconnect or a room change for a remote sid through the queue.

Realtime modules import this; it imports only the extensions and Flask.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import TypeVar

from .. import faults
from ..extensions import redis_helper, socketio

CHAT = "/chat"
LIVE = "/live"
NAMESPACES = (CHAT, LIVE)
STAFF_ROOM = "staff"
PREFIX = "chatdesk:sockets:"
DEFAULT_TTL = 30
T = TypeVar("T")


def user_room(user_id: str) -> str:
    """The room every socket of one user joins, on each namespace."""
    return f"user:{user_id}"


def thread_room(thread_id: str) -> str:
    """The room every participant's /chat socket joins for one thread."""
    return f"thread:{thread_id}"


class RedisSockets:
    """Every process's sockets in Redis sorted sets, scored by an expiry the heartbeat renews."""

    def __init__(self, url: str, ttl: int = DEFAULT_TTL):
        import redis

        self.r = redis.Redis.from_url(url, decode_responses=True)
        self.ttl = ttl
        self.lock = threading.Lock()
        self.local: dict[str, set[tuple[str, str]]] = defaultdict(set)

    def add(self, user_id: str, namespace: str, sid: str) -> None:
        with self.lock:
            self.local[user_id].add((namespace, sid))
        self.r.zadd(PREFIX + user_id, {f"{namespace}|{sid}": time.time() + self.ttl})

    def remove(self, user_id: str, namespace: str, sid: str) -> None:
        with self.lock:
            socks = self.local.get(user_id)
            if socks is not None:
                socks.discard((namespace, sid))
                if not socks:
                    del self.local[user_id]
        self.r.zrem(PREFIX + user_id, f"{namespace}|{sid}")

    def sockets_of(self, user_id: str) -> set[tuple[str, str]]:
        members = self.r.zrangebyscore(PREFIX + user_id, time.time(), "+inf")
        return {(ns, sid) for ns, _, sid in (str(m).partition("|") for m in members)}

    def heartbeat(self) -> None:
        with self.lock:
            local = {uid: set(s) for uid, s in self.local.items()}
        exp = time.time() + self.ttl
        p = self.r.pipeline(transaction=False)
        for uid, socks in local.items():
            if socks:
                p.zadd(PREFIX + uid, {f"{ns}|{sid}": exp for ns, sid in socks})
                p.expire(PREFIX + uid, self.ttl * 4)
        p.execute()


def _redis() -> RedisSockets | None:
    return redis_helper("chatdesk_sockets", RedisSockets)


def _tolerant(call: Callable[[], T], default: T, what: str) -> T:
    """Run a Redis call; while Redis is away, log it (throttled) and answer `default`.

    This process's own sockets stay known through the server's rooms meanwhile.
    """
    try:
        return call()
    except Exception as exc:
        if faults.outage_of(exc) != "redis":
            raise
        faults.report("redis", exc, what)
        return default


def add(user_id: str, namespace: str, sid: str) -> None:
    """A socket of `user_id` connected (called from the server's own connect only)."""
    store = _redis()
    if store:
        _tolerant(lambda: store.add(user_id, namespace, sid), None, "socket registry")


def remove(user_id: str, namespace: str, sid: str) -> None:
    """A socket disconnected (called from the server's own disconnect only)."""
    store = _redis()
    if store:
        _tolerant(lambda: store.remove(user_id, namespace, sid), None, "socket registry")


def sockets_of(user_id: str, namespace: str | None = None) -> set[tuple[str, str]]:
    """Every (namespace, sid) of a user: the server's rooms here, and other processes' too."""
    spaces = NAMESPACES if namespace is None else (namespace,)
    found: set[tuple[str, str]] = set()
    server = socketio.server
    if server is not None:
        for ns in spaces:
            found.update(
                (ns, sid) for sid, _ in server.manager.get_participants(ns, user_room(user_id))
            )
    store = _redis()
    if store:
        none: set[tuple[str, str]] = set()
        remote = _tolerant(lambda: store.sockets_of(user_id), none, "socket registry")
        found.update(s for s in remote if s[0] in spaces)
    return found


def heartbeat() -> None:
    """Renew this process's sockets in Redis (the /chat sweeper calls it)."""
    store = _redis()
    if store:
        _tolerant(store.heartbeat, None, "socket registry heartbeat")
