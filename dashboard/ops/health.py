"""`GET /healthz` (the process answers, no I/O) and `GET /readyz` (its database and Redis do)."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from ..extensions import db, limiter

bp = Blueprint("ops", __name__)

TIMEOUT_S = 2.0


@bp.get("/healthz")
@limiter.exempt
def healthz() -> ResponseReturnValue:
    """Liveness: the process is up and serving (touches nothing else)."""
    return {"ok": True}


@bp.get("/readyz")
@limiter.exempt
def readyz() -> ResponseReturnValue:
    """Readiness: the database and (when configured) Redis answer within a short timeout."""
    checks = {"database": _timed(_check_database)}
    if current_app.config.get("REDIS_URL"):
        checks["redis"] = _timed(_check_redis)
    ok = all(c["ok"] for c in checks.values())
    return jsonify({"ok": ok, "checks": checks}), 200 if ok else 503


def _timed(check: Any) -> dict[str, Any]:
    t0 = time.perf_counter()
    try:
        check()
    except Exception as exc:
        db.session.remove()
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "ms": round((time.perf_counter() - t0) * 1000, 1)}


def _check_database() -> None:
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text(f"SET LOCAL statement_timeout = {int(TIMEOUT_S * 1000)}"))
        conn.execute(sa.text("SELECT 1"))


def _check_redis() -> None:
    import redis

    client = current_app.extensions.get("chatdesk_readyz_redis")
    if client is None:
        client = redis.Redis.from_url(
            current_app.config["REDIS_URL"],
            socket_connect_timeout=TIMEOUT_S,
            socket_timeout=TIMEOUT_S,
        )
        current_app.extensions["chatdesk_readyz_redis"] = client
    client.ping()
