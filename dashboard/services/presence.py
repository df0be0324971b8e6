"""Who is online: a user is online while any of their connections is open on any process.

Without REDIS_URL the state lives in this process's memory. (The chat issue adds the Redis store
with a heartbeat TTL behind the same functions.)
"""

from __future__ import annotations

import threading
from collections import defaultdict

_lock = threading.Lock()
_connections: dict[str, set[str]] = defaultdict(set)


def connect(user_id: str, sid: str) -> bool:
    """Record a connection; True when it is the user's first (they just came online)."""
    with _lock:
        first = not _connections[user_id]
        _connections[user_id].add(sid)
        return first


def disconnect(user_id: str, sid: str) -> bool:
    """Forget a connection; True when it was the user's last (they just went offline)."""
    with _lock:
        conns = _connections.get(user_id)
        if not conns:
            return False
        conns.discard(sid)
        if conns:
            return False
        del _connections[user_id]
        return True


def is_online(user_id: str) -> bool:
    """True while the user has an open connection."""
    with _lock:
        return bool(_connections.get(user_id))


def online_user_ids() -> set[str]:
    """Everyone online now."""
    with _lock:
        return {uid for uid, conns in _connections.items() if conns}


def reset() -> None:
    """Forget every connection (tests, and a process that starts over)."""
    with _lock:
        _connections.clear()
