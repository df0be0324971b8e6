"""Outages of PostgreSQL or Redis: recognised, logged clearly, answered with `unavailable`.

A leaf module: services, realtime handlers and the error pages all import it.

A request that meets an outage gets 503 (`unavailable` JSON under /api, the dashboard's 503
page elsewhere) and socket events ack `{ok: false, error: {code: "unavailable"}}`. Nothing is
kept broken: SQLAlchemy's pool pre-pings and drops connections that died, and redis-py
reconnects on the next command, so the first request after the service is back succeeds.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import sqlalchemy.exc as sa_exc

log = logging.getLogger("chatdesk.faults")

UNAVAILABLE_MESSAGE = "The service is briefly unavailable. Try again in a moment."

try:  # redis is a dependency, but keep this module importable on its own
    import redis.exceptions as _redis_exc

    _REDIS_ERRORS: tuple[type[BaseException], ...] = (
        _redis_exc.ConnectionError,
        _redis_exc.TimeoutError,
        _redis_exc.BusyLoadingError,
    )
except ImportError:  # pragma: no cover
    _REDIS_ERRORS = ()


def outage_of(exc: BaseException) -> str | None:
    """`"database"` or `"redis"` when `exc` means that service is unreachable, else None."""
    if isinstance(exc, sa_exc.DBAPIError) and (
        exc.connection_invalidated
        or isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError)
    ):
        return "database"
    if isinstance(exc, sa_exc.TimeoutError | sa_exc.DisconnectionError):
        return "database"  # the pool timed out waiting for a connection
    if _REDIS_ERRORS and isinstance(exc, _REDIS_ERRORS):
        return "redis"
    return None


class Throttle:
    """Log an outage once per `every` seconds per service, not once per request."""

    def __init__(self, every: float = 5.0):
        self.every = every
        self.last: dict[str, float] = {}
        self.lock = threading.Lock()

    def due(self, key: str) -> bool:
        now = time.monotonic()
        with self.lock:
            if now - self.last.get(key, -1e9) < self.every:
                return False
            self.last[key] = now
            return True


_throttle = Throttle()


def report(service: str, exc: BaseException, where: str) -> None:
    """One clear warning line per service every few seconds while it is down."""
    if _throttle.due(service):
        log.warning(
            "%s unavailable (%s: %s) during %s; answering 503/unavailable until it is back",
            service,
            type(exc).__name__,
            str(exc).strip().splitlines()[0] if str(exc).strip() else "",
            where,
        )


def unavailable_ack(service: str) -> dict[str, Any]:
    """The ack of a socket event that met an outage."""
    return {
        "ok": False,
        "error": {
            "code": "unavailable",
            "message": UNAVAILABLE_MESSAGE,
            "details": {"service": service},
        },
    }


def check_redis(url: str, timeout: float = 2.0) -> None:
    """Raise `RuntimeError` with a clear message when Redis at `url` does not answer."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        client.ping()
    except Exception as exc:
        raise RuntimeError(
            f"REDIS_URL is set but Redis at {_safe(url)} does not answer "
            f"({type(exc).__name__}: {exc}). Start Redis, or unset REDIS_URL to run a single "
            "process without it."
        ) from None
    finally:
        client.close()


def _safe(url: str) -> str:
    """The URL without its password."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


def safe_rollback() -> None:
    """Roll the session back; on a connection that just died, discard the session instead."""
    from flask import has_app_context

    from .extensions import db

    if not has_app_context():  # the context's teardown already removed the session
        return
    try:
        db.session.rollback()
    except Exception:
        db.session.remove()


def release_session(_exc: BaseException | None = None) -> None:
    """Teardown: end the session; a connection the server dropped meanwhile is discarded.

    Ending a session rolls back on its connection. When the database went away after the
    request's last query, that rollback raises, and out of a teardown the error would replace
    the answer already built with the server's bare 500. Registered after Flask-SQLAlchemy's
    own teardown, so it runs first and leaves that one nothing to close.
    """
    from flask import has_app_context

    from .extensions import db

    if not has_app_context():
        return
    try:
        db.session.remove()
    except Exception as exc:
        service = outage_of(exc)
        if service is None:
            log.exception("ending the database session failed; its connection is discarded")
        else:
            report(service, exc, "the end of a request")
        db.session.registry().invalidate()  # drop the connection instead of rolling back
        db.session.remove()


def guard_socket(handler: str, call: Any) -> Any:
    """Run a namespace handler; an outage refuses a connect, is absorbed by a disconnect.

    Events answer through their ack (`unavailable_ack`) in the handler's own wrapper.
    """
    try:
        return call()
    except Exception as exc:
        service = outage_of(exc)
        if service is None:
            raise
        safe_rollback()
        report(service, exc, f"socket {handler}")
        if handler == "connect":
            raise ConnectionRefusedError(unavailable_ack(service)["error"]) from None
        if handler == "disconnect":
            return None
        return unavailable_ack(service)


_memory_limiter: Any = None


def memory_limiter() -> Any:
    """A per-process rate limiter in memory, for the moments Redis is unreachable."""
    global _memory_limiter
    if _memory_limiter is None:
        from limits.storage import MemoryStorage
        from limits.strategies import FixedWindowRateLimiter

        _memory_limiter = FixedWindowRateLimiter(MemoryStorage())
    return _memory_limiter
