"""The one port through which services announce what changed, after they commit.

Services call the functions below (`events.message_new(...)`); they import nothing from
`realtime/`. `realtime.init_app` subscribes `realtime.broadcast` to every event, so the
announcements reach sockets without the domain knowing Socket.IO exists, and the CLI or a
test can subscribe something else. Subscribers are kept per process, each once (like the one
Socket.IO server they emit through), so a service announces with or without an app context
and an app built twice does not announce twice. This module imports nothing of the app.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

Handler = Callable[..., None]

NAMES = frozenset(
    {
        "message_new",
        "message_updated",
        "message_status",
        "typing",
        "thread_event",
        "presence",
        "report_new",
        "sessions_ended",
    }
)
_lock = threading.Lock()
_subscribers: dict[str, tuple[Handler, ...]] = {}


def subscribe(name: str, handler: Handler) -> None:
    """Call `handler(**data)` on every `name` event from now on (once, however often asked)."""
    if name not in NAMES:
        raise ValueError(f"unknown event {name!r}")
    with _lock:
        current = _subscribers.get(name, ())
        if handler not in current:
            _subscribers[name] = (*current, handler)


def unsubscribe(name: str, handler: Handler) -> None:
    """Stop calling `handler` for `name` (tests that listen in)."""
    with _lock:
        _subscribers[name] = tuple(h for h in _subscribers.get(name, ()) if h != handler)


def _publish(name: str, **data: Any) -> None:
    for handler in _subscribers.get(name, ()):
        handler(**data)


def message_new(thread_id: str, message: dict[str, Any]) -> None:
    """A message was stored (the sender's other tabs get it too)."""
    _publish("message_new", thread_id=thread_id, message=message)


def message_updated(thread_id: str, message: dict[str, Any]) -> None:
    """A message was edited, deleted, hidden or restored."""
    _publish("message_updated", thread_id=thread_id, message=message)


def message_status(thread_id: str, user_id: str, message_ids: list[str], status: str) -> None:
    """A sender's messages became delivered or read."""
    _publish(
        "message_status",
        thread_id=thread_id,
        user_id=user_id,
        message_ids=message_ids,
        status=status,
    )


def typing(thread_id: str, payload: dict[str, Any]) -> None:
    """Someone started or stopped typing in a thread."""
    _publish("typing", thread_id=thread_id, payload=payload)


def thread_event(event: str, thread: dict[str, Any], user_ids: list[str]) -> None:
    """`thread:new`, `thread:updated` or `thread:removed` for the named users."""
    _publish("thread_event", event=event, thread=thread, user_ids=user_ids)


def presence(payload: dict[str, Any], user_ids: list[str]) -> None:
    """A user came online or went offline; `user_ids` share a thread with them."""
    _publish("presence", payload=payload, user_ids=user_ids)


def report_new(report: dict[str, Any]) -> None:
    """A message was reported."""
    _publish("report_new", report=report)


def sessions_ended(user_id: str) -> None:
    """A user's sessions ended (deactivated, or their role changed): drop their sockets."""
    _publish("sessions_ended", user_id=user_id)
