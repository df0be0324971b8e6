"""One logging setup for the whole process: `LOG_LEVEL`, `LOG_FORMAT=text|json`.

Every record carries the request id of the request (or socket connection) it happened in, so an
error line can be matched with the request line and the `X-Request-Id` the client saw.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from flask import Flask, has_request_context, request

REQUEST_ID = "chatdesk.request_id"
# Fields a record may carry in `extra={"fields": {...}}`; JSON logs put them at the top level.
FIELDS = "fields"


class RequestIdFilter(logging.Filter):
    """Stamp each record with the current request's id ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            rid = None
            if has_request_context():
                rid = request.environ.get(REQUEST_ID)
            record.request_id = rid or "-"
        return True


def _time(record: logging.LogRecord) -> str:
    t = datetime.fromtimestamp(record.created, UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


class TextFormatter(logging.Formatter):
    """`time level logger [request id] message`, then the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        line = (
            f"{_time(record)} {record.levelname} {record.name} "
            f"[{getattr(record, 'request_id', '-')}] {record.getMessage()}"
        )
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, requestId, message, fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname,
            "logger": record.name,
            "requestId": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        out.update(getattr(record, FIELDS, None) or {})
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


class _Handler(logging.StreamHandler):
    """Ours, so a second `configure` finds and updates it instead of adding another."""


def configure(level: str, fmt: str) -> None:
    """Install (or update) the one handler on the root logger; safe to call again."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, _Handler)), None)
    if handler is None:
        handler = _Handler(sys.stderr)
        handler.addFilter(RequestIdFilter())
        root.addHandler(handler)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root.setLevel(level)
    # Our request log replaces the development server's own access lines.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # With a level set, python-socketio and python-engineio add no handler of their own (their
    # errors, such as a lost Redis queue, reach ours once, in our format).
    for name in ("socketio.server", "engineio.server"):
        if logging.getLogger(name).level == logging.NOTSET:
            logging.getLogger(name).setLevel(logging.ERROR)


def init_app(app: Flask) -> None:
    """Configure logging from the app's settings (before anything touches `app.logger`)."""
    configure(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])


def log_startup(app: Flask) -> None:
    """Say which concurrency model serves this process, and warn about SQLite under gevent."""
    from ..extensions import socketio

    mode = socketio.async_mode
    log = logging.getLogger("chatdesk.server")
    log.info(
        "async_mode=%s max_sockets=%s trusted_proxies=%s",
        mode,
        app.config["MAX_SOCKETS"],
        app.config["TRUSTED_PROXIES"],
        extra={FIELDS: {"asyncMode": mode, "maxSockets": app.config["MAX_SOCKETS"]}},
    )
    if mode == "gevent" and app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        log.warning(
            "SQLite under gevent: every query blocks the whole process while it runs; "
            "use PostgreSQL (DATABASE_URL) with gunicorn"
        )
