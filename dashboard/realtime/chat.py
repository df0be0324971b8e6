"""The /chat namespace: end users' sockets (SPEC §5).

The user is loaded once, at connect, from the session cookie or `auth.token` (a Clerk JWT);
their id and public fields are kept per socket, so no event loads the user again. Every
client→server event answers through its ack: `{"ok": true, ...}` or `{"ok": false, "error"}`.
"""

from __future__ import annotations

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

from .. import faults, payloads
from ..auth.loaders import user_from_token
from ..models import User
from ..payloads import requests as events
from ..payloads.sockets import Rejected
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


def parse_event(model: type[payloads.P], data: Any) -> payloads.P:
    """The event's payload as `model` (strict JSON already checked by the packet decoder)."""
    if isinstance(data, Rejected):
        raise ValidationFailed(data.message, {"reason": data.reason})
    limits = payloads.Limits.from_config(current_app.config)
    return payloads.parse(model, {} if data is None else data, limits)


def acked(
    model: type[payloads.P],
) -> Callable[[Callable[[Any, SocketUser, Any], dict[str, Any]]], Callable[..., dict[str, Any]]]:
    """Parse the payload as `model`, run the handler, and turn any refusal or crash into an
    `{ok: false}` ack; the handler gets the socket's user and the parsed payload."""

    def decorate(
        handler: Callable[[Any, SocketUser, Any], dict[str, Any]],
    ) -> Callable[..., dict[str, Any]]:
        @wraps(handler)
        def wrapped(self: ChatNamespace, data: Any = None, *extra: Any) -> dict[str, Any]:
            user = self.users.get(request.sid)
            if user is None:
                return refused("unauthorized", "Log in first.")
            try:
                return handler(self, user, parse_event(model, data))
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

    return decorate


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

    @acked(events.ChatSend)
    def on_message_send(self, me: SocketUser, body: events.ChatSend) -> dict[str, Any]:
        """Persist, ack after the commit, then (inside the service) broadcast `message:new`."""
        rate_limits.hit("send", me.id)  # one bucket with the API's sends
        payload, created = messages.send_message(
            me,
            body.thread_id,
            client_id=body.client_id,
            content=body.content or "",
            parent_id=body.parent_id,
            attachments=body.attachment_dicts(),
            metadata=body.metadata,
        )
        return {"ok": True, "message": payload, "created": created}

    @acked(events.ChatEdit)
    def on_message_edit(self, me: SocketUser, body: events.ChatEdit) -> dict[str, Any]:
        """Edit one's own message."""
        return {"ok": True, "message": messages.edit_message(me, body.message_id, body.content)}

    @acked(events.ChatDelete)
    def on_message_delete(self, me: SocketUser, body: events.ChatDelete) -> dict[str, Any]:
        """Delete one's own message."""
        return {"ok": True, "message": messages.delete_message(me, body.message_id)}

    @acked(events.ChatReceipt)
    def on_messages_delivered(self, me: SocketUser, body: events.ChatReceipt) -> dict[str, Any]:
        """Move the delivered watermark."""
        receipts.mark_delivered(me.id, body.thread_id, body.message_id)
        return {"ok": True}

    @acked(events.ChatReceipt)
    def on_messages_read(self, me: SocketUser, body: events.ChatReceipt) -> dict[str, Any]:
        """Move the read watermark."""
        receipts.mark_read(me.id, body.thread_id, body.message_id)
        return {"ok": True}

    @acked(events.ChatTyping)
    def on_typing_start(self, me: SocketUser, body: events.ChatTyping) -> dict[str, Any]:
        """Show the user as typing in a thread of theirs (until stop, or 6 s)."""
        thread_id = self._my_thread(body.thread_id)
        rate_limits.hit("typing", me.id)
        typing.start(me.id, thread_id)
        return {"ok": True}

    @acked(events.ChatTyping)
    def on_typing_stop(self, me: SocketUser, body: events.ChatTyping) -> dict[str, Any]:
        """Stop the typing indicator."""
        typing.stop(me.id, self._my_thread(body.thread_id))
        return {"ok": True}

    @acked(events.ChatSync)
    def on_sync(self, me: SocketUser, body: events.ChatSync) -> dict[str, Any]:
        """Backfill after a reconnect: messages created or changed after `since`."""
        return {"ok": True, **messages.sync(me.id, body.since, limit=body.limit)}

    @acked(events.ChatPresenceQuery)
    def on_presence_query(self, me: SocketUser, body: events.ChatPresenceQuery) -> dict[str, Any]:
        """PresenceInfo for the given user ids."""
        return {"ok": True, "presence": presence.info(body.user_ids)}

    def _my_thread(self, thread_id: str) -> str:
        """The thread id, if this socket is in that thread's room (no DB query)."""
        if registry.thread_room(thread_id) not in rooms():
            raise NotFound("There is no such thread.")
        return thread_id
