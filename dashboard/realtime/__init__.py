"""Socket.IO: the /chat namespace for end users, /live for staff, and the one emitter.

`chat` and `live` are the socket handlers (they call services, as views do); `broadcast`
emits what the services announce through `dashboard.events`; `registry` finds a user's
sockets; `base` keeps the lifecycle handlers out of clients' reach. Realtime imports
services, serializers, auth and the extensions; nothing below it imports realtime.
"""

from __future__ import annotations

from flask import Flask

from ..extensions import socketio
from . import broadcast
from .chat import ChatNamespace
from .live import LiveNamespace


def init_app(app: Flask) -> None:
    """Register /chat and /live on this app's Socket.IO server; subscribe the emitter."""
    chat = ChatNamespace()
    live = LiveNamespace()
    socketio.on_namespace(chat)
    socketio.on_namespace(live)
    app.extensions["chatdesk_namespaces"] = {"chat": chat, "live": live}
    broadcast.init_app(app)
