"""WSGI middleware around the whole app, /socket.io included (Flask hooks never see sockets).

From the outside in: ProxyFix (only with `TRUSTED_PROXIES`), the request log with its request
id, and the socket cap that refuses a new Socket.IO session once `MAX_SOCKETS` are open, so
sockets can never take every greenlet (or thread) and starve HTTP.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from ..faults import Throttle
from .logs import FIELDS, REQUEST_ID

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
log = logging.getLogger("chatdesk.request")
_throttle = Throttle(every=10.0)
# A request id a trusted proxy sends is kept when it looks like one (no log injection).
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


class RequestLog:
    """Give each request an id (`X-Request-Id`), then log method, path, status and duration."""

    def __init__(self, app: WSGIApp, *, trust_incoming: bool):
        self.app = app
        self.trust_incoming = trust_incoming

    def _request_id(self, environ: dict[str, Any]) -> str:
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        if self.trust_incoming and _SAFE_ID.match(incoming):
            return incoming
        return uuid.uuid4().hex

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        rid = self._request_id(environ)
        environ[REQUEST_ID] = rid
        t0 = time.perf_counter()
        seen: dict[str, int] = {}

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"] = int(status.split(" ", 1)[0])
            headers.append(("X-Request-Id", rid))
            return start_response(status, headers, exc_info)

        def done() -> None:
            # A WebSocket never calls start_response here (the server upgrades the socket):
            # its line is written when the socket closes, with the 101 it was answered with.
            status = seen.get("status", 101 if environ.get("HTTP_UPGRADE") else 500)
            ms = (time.perf_counter() - t0) * 1000
            path = environ.get("PATH_INFO", "")
            method = environ.get("REQUEST_METHOD", "")
            log.info(
                "%s %s %s %.1fms %s",
                method,
                path,
                status,
                ms,
                environ.get("REMOTE_ADDR", "-"),
                extra={
                    "request_id": rid,
                    FIELDS: {
                        "method": method,
                        "path": path,
                        "status": status,
                        "durationMs": round(ms, 1),
                        "remoteAddr": environ.get("REMOTE_ADDR"),
                    },
                },
            )

        try:
            body = self.app(environ, start)
        except BaseException:
            done()
            raise
        return _Closing(body, done)


class _Closing:
    """Pass the body through; log once it has all been sent (or the server closes it early)."""

    def __init__(self, body: Iterable[bytes], on_done: Callable[[], None]):
        self.body = body
        self.on_done = on_done
        self.logged = False

    def _done(self) -> None:
        if not self.logged:
            self.logged = True
            self.on_done()

    def __iter__(self) -> Any:
        yield from self.body
        self._done()

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self._done()


class SocketCap:
    """Answer a new Socket.IO session with 503 once `limit` Engine.IO sessions are open.

    Only handshakes (no `sid` in the query string) count against the cap: requests of an
    open session always pass, and every other path is untouched.
    """

    def __init__(self, app: WSGIApp, *, limit: int, path: str, open_sessions: Callable[[], int]):
        self.app = app
        self.limit = limit
        self.prefix = "/" + path.strip("/")
        self.open_sessions = open_sessions

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if (
            environ.get("PATH_INFO", "").startswith(self.prefix)
            and "sid=" not in environ.get("QUERY_STRING", "")
            and (open_now := self.open_sessions()) >= self.limit
        ):
            if _throttle.due("socket-cap"):
                log.warning(
                    "refusing new sockets: %s open, MAX_SOCKETS=%s (scale out, or raise it)",
                    open_now,
                    self.limit,
                )
            body = json.dumps(
                {
                    "error": {
                        "code": "unavailable",
                        "message": "This server holds as many connections as it may; "
                        "try again shortly.",
                        "details": {"maxSockets": self.limit},
                    }
                }
            ).encode()
            start_response(
                "503 Service Unavailable",
                [
                    ("Content-Type", "application/json"),
                    ("Content-Length", str(len(body))),
                    ("Retry-After", "5"),
                ],
            )
            return [body]
        return self.app(environ, start_response)


def _open(sockets: dict[str, Any]) -> int:
    """Engine.IO sessions still open (a closed one lingers in the dict until a sweep)."""
    return sum(1 for s in list(sockets.values()) if not s.closed)


def init_app(app: Flask) -> None:
    """Wrap `app.wsgi_app` (Flask-SocketIO's middleware is already inside it)."""
    from ..extensions import socketio

    eio = socketio.server.eio
    wsgi: WSGIApp = SocketCap(
        app.wsgi_app,
        limit=app.config["MAX_SOCKETS"],
        path=socketio.server_options.get("path", "socket.io"),
        open_sessions=lambda: _open(eio.sockets),
    )
    n = app.config["TRUSTED_PROXIES"]
    wsgi = RequestLog(wsgi, trust_incoming=n > 0)
    if n:
        wsgi = ProxyFix(wsgi, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n)
    # Flask's documented way to add WSGI middleware; set through object.__setattr__ because
    # typing sees `wsgi_app` as a method.
    object.__setattr__(app, "wsgi_app", wsgi)
