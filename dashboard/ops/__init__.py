"""Operations: the concurrency model, request logs, proxy awareness, faults and health checks.

`create_app` calls `init_app` (and `logs.init_app` first of all); the server entry points
(`wsgi.py`, `gunicorn.conf.py`) call `startup`. Nothing else imports this package: the fault
classification that services and handlers share lives in `dashboard/faults.py`.
"""

from __future__ import annotations

from flask import Flask

from .. import faults
from . import health, logs, middleware


def init_app(app: Flask) -> None:
    """Wrap the WSGI app (proxy fix, request log, socket cap), add health routes and fault pages.

    Call after Socket.IO is bound: the socket cap and the request log must see /socket.io too.
    """
    app.register_blueprint(health.bp)
    middleware.init_app(app)


def startup(app: Flask) -> None:
    """What a serving process checks once, before it takes traffic (never the CLI or tests).

    With `REDIS_URL` set, Redis must answer: a server that started without it would run with
    no message queue, split presence and split rate limits. Raises `RuntimeError` with a
    message that says what to do; the entry point prints it and exits non-zero.
    """
    url = app.config.get("REDIS_URL")
    if url:
        faults.check_redis(url)
    logs.log_startup(app)
