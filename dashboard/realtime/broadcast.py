"""The one place that emits Socket.IO events: subscribed to `dashboard.events` at init_app.

Rooms: `user:<id>` (every socket of a user, on both namespaces), `thread:<id>` (participants'
sockets on /chat), and `staff` (every socket on /live). With REDIS_URL set, Flask-SocketIO's
message queue carries each emit to every process. Payloads are small: the dashboard re-fetches
HTML on a live event. Imports the extensions and `registry` only: never a service.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from .. import events
from ..extensions import socketio
from .registry import CHAT, LIVE, STAFF_ROOM, sockets_of, thread_room, user_room


def _emit(event: str, payload: Any, room: str | list[str], namespace: str) -> None:
    socketio.emit(event, payload, to=room, namespace=namespace)


def message_new(thread_id: str, message: dict[str, Any]) -> None:
    """A message was stored: to the thread's participants (the sender's other tabs too)."""
    _emit("message:new", message, thread_room(thread_id), CHAT)


def message_updated(thread_id: str, message: dict[str, Any]) -> None:
    """A message was edited, deleted, hidden or restored."""
    _emit("message:updated", message, thread_room(thread_id), CHAT)


def message_status(thread_id: str, user_id: str, message_ids: list[str], status: str) -> None:
    """Statuses of a sender's messages moved (delivered/read): to that sender."""
    payload = {"threadId": thread_id, "messageIds": message_ids, "status": status}
    _emit("message:status", payload, user_room(user_id), CHAT)


def typing(thread_id: str, payload: dict[str, Any]) -> None:
    """Someone started or stopped typing in a thread."""
    _emit("typing", payload, thread_room(thread_id), CHAT)


def thread_event(event: str, thread: dict[str, Any], user_ids: list[str]) -> None:
    """`thread:new` / `thread:updated` / `thread:removed` to each named user, and staff.

    A new participant's sockets enter the thread's room (a removed one's leave it), found in
    the server's own rooms here and in the registry for other processes: python-socketio
    forwards enter/leave for remote sids through the queue.
    """
    for uid in user_ids:
        if event in ("thread:new", "thread:removed"):
            for _, sid in sockets_of(uid, CHAT):
                if event == "thread:new":
                    socketio.server.enter_room(sid, thread_room(thread["id"]), namespace=CHAT)
                else:
                    socketio.server.leave_room(sid, thread_room(thread["id"]), namespace=CHAT)
        _emit(event, thread, user_room(uid), CHAT)
    if event != "thread:new":
        _emit("thread:updated", {"id": thread["id"]}, STAFF_ROOM, LIVE)


def presence(payload: dict[str, Any], user_ids: list[str]) -> None:
    """A user came online or went offline: to the users who share a thread with them, and staff."""
    # One emit to every room at once: the packet is encoded once, not once per co-participant
    # (a 1,000-member thread made each connect encode it 1,000 times).
    rooms = [user_room(uid) for uid in user_ids]
    if rooms:
        _emit("presence", payload, rooms, CHAT)
    _emit("presence", payload, STAFF_ROOM, LIVE)


def report_new(report: dict[str, Any]) -> None:
    """A message was reported: to every open dashboard."""
    _emit("report:new", report, STAFF_ROOM, LIVE)


def activity(counts: dict[str, Any]) -> None:
    """The periodic activity figures for the dashboards."""
    _emit("activity", counts, STAFF_ROOM, LIVE)


def end_user_sessions(user_id: str) -> None:
    """A user was deactivated (or their role changed): drop their sockets everywhere.

    Each socket is told `session:ended`, then disconnected by sid; for a sid held by another
    process python-socketio sends the disconnect through the message queue.
    """
    for ns, sid in sockets_of(user_id):
        socketio.emit("session:ended", {"userId": user_id}, to=sid, namespace=ns)
        socketio.server.disconnect(sid, namespace=ns)


def init_app(app: Flask) -> None:
    """Subscribe every emitter to the services' announcements (once per process)."""
    for name, handler in (
        ("message_new", message_new),
        ("message_updated", message_updated),
        ("message_status", message_status),
        ("typing", typing),
        ("thread_event", thread_event),
        ("presence", presence),
        ("report_new", report_new),
        ("sessions_ended", end_user_sessions),
    ):
        events.subscribe(name, handler)
