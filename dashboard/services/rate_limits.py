"""Per-user rate limits shared by the API and the sockets.

One bucket per user and kind, whichever surface the request came through: a user who sends
over the API and the socket at once gets SEND_RATE_LIMIT in all, not twice that. Counted in
Flask-Limiter's storage (Redis with REDIS_URL, so across processes; else process memory).
"""

from __future__ import annotations

from functools import lru_cache

from flask import current_app
from limits import RateLimitItem, parse

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
    if not limiter.limiter.hit(rate, kind, user_id):
        raise RateLimited(MESSAGES[kind], {"limit": str(rate)})
