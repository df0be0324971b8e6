"""Typing indicators: ephemeral, socket only, expiring 6 s after the last `typing:start`.

State is per process (a user's typing socket lives on one process); a sweeper started by the
/chat namespace calls `expire()` every second and broadcasts the stops.
"""

from __future__ import annotations

import threading
import time

from .. import events
from ..models import utcnow
from ..serializers import typing_json

EXPIRY_SECONDS = 6.0

_lock = threading.Lock()
# (user id, thread id) -> monotonic time of the last typing:start
_typing: dict[tuple[str, str], float] = {}


def start(user_id: str, thread_id: str) -> None:
    """The user is typing in the thread: broadcast it and (re)start the 6 s expiry."""
    with _lock:
        _typing[(user_id, thread_id)] = time.monotonic()
    events.typing(thread_id, typing_json(user_id, thread_id, utcnow(), True))


def stop(user_id: str, thread_id: str) -> None:
    """The user stopped typing (sent the message, cleared the box, or left)."""
    with _lock:
        _typing.pop((user_id, thread_id), None)
    events.typing(thread_id, typing_json(user_id, thread_id, utcnow(), False))


def stop_all(user_id: str) -> None:
    """A user's socket closed: stop every indicator of theirs."""
    with _lock:
        keys = [k for k in _typing if k[0] == user_id]
        for k in keys:
            del _typing[k]
    for uid, tid in keys:
        events.typing(tid, typing_json(uid, tid, utcnow(), False))


def expire(now: float | None = None) -> list[tuple[str, str]]:
    """Stop the indicators whose last start is older than the expiry; returns them."""
    now = time.monotonic() if now is None else now
    with _lock:
        old = [k for k, t in _typing.items() if now - t >= EXPIRY_SECONDS]
        for k in old:
            del _typing[k]
    for uid, tid in old:
        events.typing(tid, typing_json(uid, tid, utcnow(), False))
    return old


def is_typing(user_id: str, thread_id: str) -> bool:
    """True while an indicator is on."""
    with _lock:
        t = _typing.get((user_id, thread_id))
    return t is not None and time.monotonic() - t < EXPIRY_SECONDS
