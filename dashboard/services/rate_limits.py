"""Per-user rate limits shared by the API and the sockets.

One bucket per user and kind, whichever surface the request came through: a user who sends
over the API and the socket at once gets SEND_RATE_LIMIT in all, not twice that. Counted in
Flask-Limiter's storage (Redis with REDIS_URL, so across processes; else process memory).
While Redis is unreachable each process counts in its own memory (docs/deployment.md).
"""

from __future__ import annotations

from functools import lru_cache

from flask import current_app
from limits import RateLimitItem, parse

from .. import faults
from ..extensions import limiter
from .errors import RateLimited

SETTINGS = {"send": "SEND_RATE_LIMIT", "typing": "TYPING_RATE_LIMIT"}
MESSAGES = {
    "send": "Too many messages. Wait a moment and try again.",
    "typing": "Too many typing updates. Wait a moment.",
}


@lru_cache(maxsize=32)
def _rate(text: str) -> RateLimitItem:
    return parse(text)


def hit(kind: str, user_id: str) -> None:
    """Count one `kind` action of the user; RateLimited once their bucket is empty."""
    cfg = current_app.config
    if not cfg.get("RATELIMIT_ENABLED", True):
        return
    rate = _rate(cfg[SETTINGS[kind]])
    try:
        allowed = limiter.limiter.hit(rate, kind, user_id)
    except Exception as exc:  # Redis is away: this process's own memory counts meanwhile
        if faults.outage_of(exc) != "redis":
            raise
        faults.report("redis", exc, f"the {kind} rate limit")
        allowed = faults.memory_limiter().hit(rate, kind, user_id)
    if not allowed:
        raise RateLimited(MESSAGES[kind], {"limit": str(rate)})
