"""The /chat namespace: end users' sockets (SPEC §5).

The user is loaded once, at connect, from the session cookie or `auth.token` (a Clerk JWT);
their id and public fields are kept per socket, so no event loads the user again. Every
client→server event answers through its ack: `{"ok": true, ...}` or `{"ok": false, "error"}`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import current_app, request
from flask_login import current_user
from flask_socketio import join_room, rooms

from .. import faults
from ..auth.loaders import user_from_token
from ..models import User
from ..services import messages, presence, rate_limits, receipts, threads, typing
from ..services.errors import NotFound, ServiceError, ValidationFailed
from . import registry
from .base import ServerNamespace, refused

log = logging.getLogger("chatdesk.sockets")


@dataclass(frozen=True)
class SocketUser:
    """What a socket remembers of its user (enough to author a message)."""

    id: str
    username: str
    first_name: str | None
    last_name: str | None
    image_url: str | None
    role: str

    @classmethod
    def of(cls, user: User) -> SocketUser:
        return cls(
            user.id, user.username, user.first_name, user.last_name, user.image_url, user.role
        )


def authenticate(auth: Any) -> User | None:
    """The connecting user: the Flask-Login session, else a Clerk token in `auth.token`."""
    if current_user.is_authenticated:
        return current_user._get_current_object()
    token = auth.get("token") if isinstance(auth, dict) else None
    if isinstance(token, str) and token:
        return user_from_token(token)
    return None


def check_socket_cap(user_id: str) -> None:
    """Refuse a connection past MAX_SOCKETS_PER_USER open sockets (both namespaces, every
    process): one account cannot hold thousands of a worker's connections."""
    cap = current_app.config["MAX_SOCKETS_PER_USER"]
    if len(registry.sockets_of(user_id)) >= cap:
        current_app.logger.info("refused a socket of user %s: %d already open", user_id, cap)
        raise ConnectionRefusedError("too_many_connections")


def error_ack(exc: ServiceError) -> dict[str, Any]:
    """The ack of a refused event."""
    return {"ok": False, "error": exc.to_dict()}


def acked(handler: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Run an event handler and turn any refusal or crash into an `{ok: false}` ack."""

    @wraps(handler)
    def wrapped(self: ChatNamespace, data: Any = None) -> dict[str, Any]:
        user = self.users.get(request.sid)
        if user is None:
            return refused("unauthorized", "Log in first.")
        if data is None:
            data = {}
        if not isinstance(data, dict):
            return error_ack(ValidationFailed("The payload must be an object."))
        if "\\u0000" in json.dumps(data):  # PostgreSQL cannot store NUL: refuse it clearly
            return error_ack(ValidationFailed("NUL characters are not allowed."))
        try:
            return handler(self, user, data)
        except ServiceError as exc:
            faults.safe_rollback()
            return error_ack(exc)
        except Exception as exc:
            faults.safe_rollback()
            service = faults.outage_of(exc)
            if service is not None:  # never acked as sent: the commit did not happen
                faults.report(service, exc, f"socket event {handler.__name__}")
                return faults.unavailable_ack(service)
            current_app.logger.exception("socket event %s failed", handler.__name__)
            return refused("internal_error", "Something went wrong on our side.")

    return wrapped


class ChatNamespace(ServerNamespace):
    """Socket.IO `/chat`: messages, receipts, typing, presence and sync."""

    def __init__(self, namespace: str = registry.CHAT):
        super().__init__(namespace)
        self.users: dict[str, SocketUser] = {}
        self._sweeper_lock = threading.Lock()
        self._sweeper_running = False

    # --- connection (the server's own connect and disconnect only: see base.py) ----------

    def on_connect(self, auth: Any = None) -> None:
        """Refuse without a valid session or token; join the user's and threads' rooms."""
        user = authenticate(auth)
        if user is None or not user.is_active:
            raise ConnectionRefusedError("unauthorized")
        check_socket_cap(user.id)
        me = SocketUser.of(user)
        sid = request.sid
        self.users[sid] = me
        join_room(registry.user_room(me.id))
        for tid in threads.thread_ids_for(me.id):
            join_room(registry.thread_room(tid))
        registry.add(me.id, registry.CHAT, sid)
        log.info("socket connected: /chat user %s sid %s", me.id, sid)
        presence.socket_opened(me.id, sid)
        self._start_sweeper(current_app._get_current_object())  # type: ignore[attr-defined]

    def on_disconnect(self, reason: Any = None) -> None:
        """Forget the socket; when it was the user's last, they go offline (lastSeen saved)."""
        sid = request.sid
        me = self.users.pop(sid, None)
        if me is None:
            return
        log.info("socket disconnected: /chat user %s sid %s (%s)", me.id, sid, reason)
        registry.remove(me.id, registry.CHAT, sid)
        presence.socket_closed(me.id, sid)

    def _start_sweeper(self, app: Any) -> None:
        """One background task per process: typing expiry and the presence heartbeat."""
        with self._sweeper_lock:
            if self._sweeper_running:
                return
            self._sweeper_running = True
        self.socketio.start_background_task(self._sweep, app)

    def _sweep(self, app: Any) -> None:
        beat_every = max(1.0, float(app.config.get("PRESENCE_TTL", presence.DEFAULT_TTL)) / 3)
        last_beat = 0.0
        idle_since: float | None = None
        while True:
            time.sleep(1.0)
            try:
                with app.app_context():  # Redis presence and the registry read the app config
                    typing.expire()
                    now = time.monotonic()
                    if now - last_beat >= beat_every:
                        last_beat = now
                        registry.heartbeat()
                        presence.heartbeat()  # announces whoever went offline elsewhere
            except Exception:
                app.logger.exception("chat sweeper failed")
            # Stop once the namespace has been empty a few seconds; the next connect restarts it.
            if self.users:
                idle_since = None
            elif idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since > 3:
                with self._sweeper_lock:
                    if not self.users:
                        self._sweeper_running = False
                        return

    # --- events -------------------------------------------------------------------------

    @acked
    def on_message_send(self, me: SocketUser, data: dict[str, Any]) -> dict[str, Any]:
        """Persist, ack after the commit, then (inside the service) broadcast `message:new`."""
        rate_limits.hit("send", me.id)  # one bucket with the API's sends
        thread_id = data.get("threadId")
        if not isinstance(thread_id, str) or not thread_id:
            raise ValidationFailed("threadId is required.", {"fields": {"threadId": "required"}})
        payload, created = messages.send_message(
            me,
            thread_id,
            client_id=data.get("clientId"),
            content=data.get("content", ""),
            parent_id=data.get("parentId"),
            attachments=data.get("attachments"),
            metadata=data.get("metadata"),
        )
        return {"ok": True, "message": payload, "created": created}

    @acked
    def on_message_edit(self, me: SocketUser, data: dict[str, Any]) -> dict[str, Any]:
        """Edit one's own message."""
        return {
            "ok": True,
            "message": messages.edit_message(me, data.get("messageId"), data.get("content")),
        }

    @acked
    def on_message_delete(self, me: SocketUser, data: dict[str, Any]) -> dict[str, Any]:
        """Delete one's own message."""
        return {"ok": True, "message": messages.delete_message(me, data.get("messageId"))}

    @acked
    def on_messages_delivered(self, me: SocketUser, data: dict[str, Any]) -> dict[str, Any]:
        """Move the delivered watermark."""
        receipts.mark_delivered(me.id, data.get("threadId"), data.get("messageId"))
        return {"ok": True}

    @acked
    def on_messages_read(self, me: SocketUser, data: dict[str, Any]) -> dict[str, Any]:
        """Move the read watermark."""
        receipts.mark_read(me.id, data.get("threadId"), data.get("messageId"))
        return {"ok": True}

    @acked
    def on_typing_start(self, me: SocketUser, data: dict[str, Any]) -> dict[str, Any]:
        """Show the user as typing in a thread of theirs (until stop, or 6 s)."""
        thread_id = self._my_thread(data)
        rate_limits.hit("typing", me.id)
        typing.start(me.id, thread_id)
        return {"ok": True}

    @acked
    def on_typing_stop(self, me: SocketUser, data: dict[str, Any]) -> dict[str, Any]:
        """Stop the typing indicator."""
        typing.stop(me.id, self._my_thread(data))
        return {"ok": True}

    @acked
    def on_sync(self, me: SocketUser, data: dict[str, Any]) -> dict[str, Any]:
        """Backfill after a reconnect: messages created or changed after `since`."""
        limit = data.get("limit", messages.SYNC_BATCH)
        if not isinstance(limit, int) or not 1 <= limit <= 500:
            raise ValidationFailed("limit is 1 to 500.", {"fields": {"limit": "1 to 500"}})
        return {"ok": True, **messages.sync(me.id, data.get("since"), limit=limit)}

    @acked
    def on_presence_query(self, me: SocketUser, data: dict[str, Any]) -> dict[str, Any]:
        """PresenceInfo for the given user ids."""
        ids = data.get("userIds")
        if not isinstance(ids, list):
            raise ValidationFailed("userIds must be a list.", {"fields": {"userIds": "a list"}})
        return {"ok": True, "presence": presence.info(ids)}

    def _my_thread(self, data: dict[str, Any]) -> str:
        """The payload's threadId, if this socket is in that thread's room (no DB query)."""
        thread_id = data.get("threadId")
        if not isinstance(thread_id, str) or not thread_id:
            raise ValidationFailed("threadId is required.", {"fields": {"threadId": "required"}})
        if registry.thread_room(thread_id) not in rooms():
            raise NotFound("There is no such thread.")
        return thread_id
