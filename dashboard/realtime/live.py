"""The /live namespace: staff dashboards' feed (presence, reports, threads, activity).

A staff member with a dashboard open counts as online, like an end user with the chat open:
the /live socket is a presence connection (announced to co-participants and to every
dashboard), and the namespace's ticker keeps it alive in Redis with the presence heartbeat.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from flask import current_app, request
from flask_socketio import emit, join_room

from ..services import presence, stats
from . import broadcast, registry
from .base import ServerNamespace
from .chat import authenticate, check_socket_cap

log = logging.getLogger("chatdesk.sockets")


class LiveNamespace(ServerNamespace):
    """Socket.IO `/live`: staff only; a presence snapshot on connect, then live events."""

    def __init__(self, namespace: str = registry.LIVE):
        super().__init__(namespace)
        self.staff: dict[str, str] = {}
        self._lock = threading.Lock()
        self._ticker = False

    def on_connect(self, auth: Any = None) -> None:
        """Refuse anyone but staff; join the staff room and send the presence snapshot."""
        user = authenticate(auth)
        if user is None or not user.is_active or not user.is_staff:
            raise ConnectionRefusedError("forbidden")
        check_socket_cap(user.id)
        sid = request.sid
        uid = user.id
        self.staff[sid] = uid
        join_room(registry.STAFF_ROOM)
        # The user's room makes this socket one the server can find to drop (role change).
        join_room(registry.user_room(uid))
        registry.add(uid, registry.LIVE, sid)
        presence.socket_opened(uid, sid)  # staff on the dashboard are online too
        items = presence.info(sorted(presence.online_user_ids()))  # the departed drop out
        emit("presence:snapshot", {"items": items, "count": len(items)})
        log.info("socket connected: /live user %s sid %s", uid, sid)
        self._start_ticker(current_app._get_current_object())  # type: ignore[attr-defined]

    def on_disconnect(self, reason: Any = None) -> None:
        """Forget the socket."""
        uid = self.staff.pop(request.sid, None)
        if uid:
            log.info("socket disconnected: /live user %s sid %s (%s)", uid, request.sid, reason)
            registry.remove(uid, registry.LIVE, request.sid)
            presence.socket_closed(uid, request.sid)

    def _start_ticker(self, app: Any) -> None:
        with self._lock:
            if self._ticker:
                return
            self._ticker = True
        self.socketio.start_background_task(self._tick, app)

    def _tick(self, app: Any) -> None:
        """Every ACTIVITY_INTERVAL seconds, the activity figures to every dashboard; every
        PRESENCE_TTL / 3 seconds, the presence and socket heartbeat (dashboards stay online)."""
        interval = float(app.config.get("ACTIVITY_INTERVAL", 10))
        beat_every = max(1.0, float(app.config.get("PRESENCE_TTL", presence.DEFAULT_TTL)) / 3)
        step = min(interval, beat_every)
        last_activity = last_beat = time.monotonic()
        while True:
            time.sleep(step)
            with self._lock:
                if not self.staff:
                    self._ticker = False
                    return
            now = time.monotonic()
            if now - last_beat >= beat_every:
                last_beat = now
                try:
                    with app.app_context():
                        registry.heartbeat()
                        presence.heartbeat()
                except Exception:
                    app.logger.exception("live heartbeat failed")
            if now - last_activity >= interval:
                last_activity = now
                try:
                    with app.app_context():
                        broadcast.activity(stats.activity_counts())
                except Exception:
                    app.logger.exception("activity tick failed")
