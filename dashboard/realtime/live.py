"""The /live namespace: staff dashboards' feed (presence, reports, threads, activity)."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, request
from flask_socketio import Namespace, emit, join_room

from .. import faults
from ..extensions import db
from ..models import Message, Report, id_floor, utcnow
from ..services import presence
from . import broadcast
from .chat import authenticate, check_socket_cap

log = logging.getLogger("chatdesk.sockets")


def activity_counts() -> dict[str, Any]:
    """The periodic figures: users online, messages in the last minute, open reports."""
    since = id_floor(utcnow() - timedelta(minutes=1))
    recent = db.session.scalar(
        sa.select(sa.func.count()).select_from(Message).where(Message.id >= since)
    )
    reports = db.session.scalar(
        sa.select(sa.func.count()).select_from(Report).where(Report.state == "open")
    )
    return {
        "online": len(presence.online_user_ids()),
        "messagesLastMinute": recent or 0,
        "openReports": reports or 0,
    }


class LiveNamespace(Namespace):
    """Socket.IO `/live`: staff only; a presence snapshot on connect, then live events."""

    def __init__(self, namespace: str = broadcast.LIVE):
        super().__init__(namespace)
        self.staff: dict[str, str] = {}
        self._lock = threading.Lock()
        self._ticker = False

    def trigger_event(self, event: str, *args: Any) -> Any:
        """Route `presence:query`-style names to `on_presence_query`; outages refuse a connect."""
        return faults.guard_socket(
            event, lambda: super(LiveNamespace, self).trigger_event(event.replace(":", "_"), *args)
        )

    def on_connect(self, auth: Any = None) -> None:
        """Refuse anyone but staff; join the staff room and send the presence snapshot."""
        user = authenticate(auth)
        if user is None or not user.is_active or not user.is_staff:
            raise ConnectionRefusedError("forbidden")
        check_socket_cap(user.id)
        sid = request.sid
        uid = user.id
        self.staff[sid] = uid
        join_room(broadcast.STAFF_ROOM)
        presence.track_socket(uid, broadcast.LIVE, sid)
        online = sorted(presence.online_user_ids())
        items = presence.info(online)  # users who no longer exist drop out here
        emit("presence:snapshot", {"items": items, "count": len(items)})
        log.info("socket connected: /live user %s sid %s", uid, sid)
        db.session.rollback()
        self._start_ticker(current_app._get_current_object())  # type: ignore[attr-defined]

    def on_disconnect(self, reason: Any = None) -> None:
        """Forget the socket."""
        uid = self.staff.pop(request.sid, None)
        if uid:
            log.info("socket disconnected: /live user %s sid %s (%s)", uid, request.sid, reason)
            presence.untrack_socket(uid, broadcast.LIVE, request.sid)

    def _start_ticker(self, app: Any) -> None:
        with self._lock:
            if self._ticker:
                return
            self._ticker = True
        self.socketio.start_background_task(self._tick, app)

    def _tick(self, app: Any) -> None:
        """Every ACTIVITY_INTERVAL seconds, the activity figures to every dashboard."""
        interval = float(app.config.get("ACTIVITY_INTERVAL", 10))
        while True:
            time.sleep(interval)
            with self._lock:
                if not self.staff:
                    self._ticker = False
                    return
            try:
                with app.app_context():
                    broadcast.activity(activity_counts())
            except Exception:
                app.logger.exception("activity tick failed")
