"""The one place that emits Socket.IO events. Services call these after they commit.

Rooms: `user:<id>` (every socket of a user), `thread:<id>` (participants' sockets on /chat),
and `staff` (every socket on /live). With REDIS_URL set, Flask-SocketIO's message queue carries
each emit to every process. Payloads are small: the dashboard re-fetches HTML on a live event.
"""

from __future__ import annotations

from typing import Any

from ..extensions import socketio
from ..services import presence as presence_store

CHAT = "/chat"
LIVE = "/live"


def user_room(user_id: str) -> str:
    """The room every socket of one user joins."""
    return f"user:{user_id}"


def thread_room(thread_id: str) -> str:
    """The room every participant's /chat socket joins for one thread."""
    return f"thread:{thread_id}"


STAFF_ROOM = "staff"


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


def _sockets(user_id: str, namespace: str) -> list[str]:
    return [sid for ns, sid in presence_store.sockets_of(user_id) if ns == namespace]


def thread_event(event: str, thread: dict[str, Any], user_ids: list[str]) -> None:
    """`thread:new` / `thread:updated` / `thread:removed` to each named user, and staff.

    A new participant's sockets enter the thread's room (a removed one's leave it) on whatever
    process holds them: python-socketio forwards enter/leave for remote sids through the queue.
    """
    for uid in user_ids:
        if event in ("thread:new", "thread:removed"):
            for sid in _sockets(uid, CHAT):
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
    """A user was deactivated (or their sessions revoked): drop their sockets everywhere.

    Each socket is told `session:ended`, then disconnected by sid; for a sid held by another
    process python-socketio sends the disconnect through the message queue.
    """
    for ns, sid in presence_store.sockets_of(user_id):
        socketio.emit("session:ended", {"userId": user_id}, to=sid, namespace=ns)
        socketio.server.disconnect(sid, namespace=ns)
