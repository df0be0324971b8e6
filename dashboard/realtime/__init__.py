"""Socket.IO: the /chat namespace for end users, /live for staff, and broadcast.py."""

from __future__ import annotations

from flask import Flask

from ..extensions import socketio


def init_app(app: Flask) -> None:
    """Register the /chat and /live namespaces on this app's Socket.IO server."""
    # Imported here: the namespaces import the services, which import broadcast from this package.
    from .chat import ChatNamespace
    from .live import LiveNamespace

    chat = ChatNamespace()
    live = LiveNamespace()
    socketio.on_namespace(chat)
    socketio.on_namespace(live)
    app.extensions["chatdesk_namespaces"] = {"chat": chat, "live": live}
