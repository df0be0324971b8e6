"""Settings, read from the environment in this one place (typed and validated)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message says which and how to fix it."""


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")
# Open Socket.IO sessions one process accepts before it refuses new ones (gunicorn.conf.py
# sizes the worker's connection pool above it, so HTTP always finds a free slot).
DEFAULT_MAX_SOCKETS = 5000

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def parse_bool(name: str, value: str | None, default: bool = False) -> bool:
    """Read a boolean setting: 1/true/yes/on or 0/false/no/off."""
    if value is None:
        return default
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ConfigError(f"{name} must be a boolean (true/false), got {value!r}")


def parse_int(name: str, value: str | None, default: int, *, lo: int, hi: int) -> int:
    """Read an integer setting within [lo, hi]."""
    if value is None or value.strip() == "":
        return default
    try:
        n = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {value!r}") from None
    if not lo <= n <= hi:
        raise ConfigError(f"{name} must be between {lo} and {hi}, got {n}")
    return n


def parse_choice(
    name: str, value: str | None, default: str, choices: tuple[str, ...], *, upper: bool = False
) -> str:
    """Read one of a fixed set of words (case-insensitive)."""
    if value is None or value.strip() == "":
        return default
    v = value.strip().upper() if upper else value.strip().lower()
    if v not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return v


def parse_optional_int(name: str, value: str | None, *, lo: int, hi: int) -> int | None:
    """Read an integer setting within [lo, hi], or None when it is unset or blank."""
    if value is None or value.strip() == "":
        return None
    return parse_int(name, value, lo, lo=lo, hi=hi)


def parse_list(value: str | None) -> list[str]:
    """Read a comma-separated list, dropping blanks."""
    return [p.strip() for p in (value or "").split(",") if p.strip()]


def normalize_database_url(url: str) -> str:
    """Accept postgres:// and postgresql://, and pin the psycopg2 driver we install.

    SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3, which is not a dependency.
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url


def load_config(
    instance_path: str,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Build the Flask config from the environment (or `env`), then apply `overrides`."""
    env = os.environ if env is None else env
    overrides = dict(overrides or {})
    testing = bool(overrides.get("TESTING")) or parse_bool("TESTING", env.get("CHATDESK_TESTING"))
    debug = parse_bool("FLASK_DEBUG", env.get("FLASK_DEBUG"))

    default_db = "sqlite:///" + str(Path(instance_path) / "chatdesk.db")
    cfg: dict[str, Any] = {
        "TESTING": testing,
        "SECRET_KEY": env.get("SECRET_KEY") or None,
        "SQLALCHEMY_DATABASE_URI": normalize_database_url(env.get("DATABASE_URL") or default_db),
        "REDIS_URL": env.get("REDIS_URL") or None,
        "HOST": env.get("HOST") or "127.0.0.1",
        "PORT": parse_int("PORT", env.get("PORT"), 5000, lo=1, hi=65535),
        # Operations (docs/deployment.md): proxies in front, logs, sockets per process.
        "TRUSTED_PROXIES": parse_int("TRUSTED_PROXIES", env.get("TRUSTED_PROXIES"), 0, lo=0, hi=10),
        "LOG_LEVEL": parse_choice(
            "LOG_LEVEL", env.get("LOG_LEVEL"), "INFO", LOG_LEVELS, upper=True
        ),
        "LOG_FORMAT": parse_choice("LOG_FORMAT", env.get("LOG_FORMAT"), "text", LOG_FORMATS),
        # Connections per process to PostgreSQL: under gevent every waiting greenlet needs one.
        "DATABASE_POOL_SIZE": parse_int(
            "DATABASE_POOL_SIZE", env.get("DATABASE_POOL_SIZE"), 10, lo=1, hi=1000
        ),
        "DATABASE_MAX_OVERFLOW": parse_int(
            "DATABASE_MAX_OVERFLOW", env.get("DATABASE_MAX_OVERFLOW"), 20, lo=0, hi=1000
        ),
        "MAX_SOCKETS": parse_int(
            "MAX_SOCKETS", env.get("MAX_SOCKETS"), DEFAULT_MAX_SOCKETS, lo=1, hi=1_000_000
        ),
        "CLERK_JWT_KEY": (env.get("CLERK_JWT_KEY") or "").replace("\\n", "\n") or None,
        "CLERK_ISSUER": env.get("CLERK_ISSUER") or None,
        "CLERK_AUTHORIZED_PARTIES": parse_list(env.get("CLERK_AUTHORIZED_PARTIES")),
        "CLERK_JWKS_URL": env.get("CLERK_JWKS_URL") or None,
        # How long fetched keys are trusted before a refetch, and the least time between two
        # fetches (an unknown `kid` asks for one; a flood of them must not hammer Clerk).
        "CLERK_JWKS_CACHE_SECONDS": parse_int(
            "CLERK_JWKS_CACHE_SECONDS", env.get("CLERK_JWKS_CACHE_SECONDS"), 3600, lo=1, hi=86400
        ),
        "CLERK_JWKS_MIN_REFRESH_SECONDS": parse_int(
            "CLERK_JWKS_MIN_REFRESH_SECONDS",
            env.get("CLERK_JWKS_MIN_REFRESH_SECONDS"),
            60,
            lo=0,
            hi=86400,
        ),
        "CLERK_WEBHOOK_SECRET": env.get("CLERK_WEBHOOK_SECRET") or None,
        "CLERK_DELETE_ERASES": parse_bool(
            "CLERK_DELETE_ERASES", env.get("CLERK_DELETE_ERASES"), default=True
        ),
        # Unset: archived threads are kept for ever.
        "RETENTION_ARCHIVED_DAYS": parse_optional_int(
            "RETENTION_ARCHIVED_DAYS", env.get("RETENTION_ARCHIVED_DAYS"), lo=1, hi=36500
        ),
        # SQLite search: authors and threads with this many messages get their own index of
        # words (`chatdesk search-scopes`, docs/search.md "The scope index on SQLite").
        "SEARCH_SCOPE_MIN_MESSAGES": parse_int(
            "SEARCH_SCOPE_MIN_MESSAGES",
            env.get("SEARCH_SCOPE_MIN_MESSAGES"),
            20_000,
            lo=1,
            hi=1_000_000_000,
        ),
        # Rows per transaction for erasure and retention: short locks, resumable runs.
        "LIFECYCLE_BATCH_SIZE": parse_int(
            "LIFECYCLE_BATCH_SIZE", env.get("LIFECYCLE_BATCH_SIZE"), 1000, lo=1, hi=100_000
        ),
        "UPLOAD_DIR": env.get("UPLOAD_DIR") or str(Path(instance_path) / "uploads"),
        "MAX_UPLOAD_BYTES": parse_int(
            "MAX_UPLOAD_BYTES", env.get("MAX_UPLOAD_BYTES"), 10 * 1024 * 1024, lo=1024, hi=1 << 30
        ),
        # An image over this many pixels is refused before it is decoded (a decompression bomb).
        "MAX_IMAGE_PIXELS": parse_int(
            "MAX_IMAGE_PIXELS", env.get("MAX_IMAGE_PIXELS"), 40_000_000, lo=1024, hi=200_000_000
        ),
        "THUMBNAIL_SIZE": parse_int(
            "THUMBNAIL_SIZE", env.get("THUMBNAIL_SIZE"), 320, lo=32, hi=2048
        ),
        "MAX_MESSAGE_CHARS": parse_int(
            "MAX_MESSAGE_CHARS", env.get("MAX_MESSAGE_CHARS"), 10_000, lo=1, hi=1_000_000
        ),
        "MAX_ATTACHMENTS": parse_int(
            "MAX_ATTACHMENTS", env.get("MAX_ATTACHMENTS"), 10, lo=0, hi=100
        ),
        "MAX_TITLE_CHARS": parse_int(
            "MAX_TITLE_CHARS", env.get("MAX_TITLE_CHARS"), 200, lo=1, hi=1000
        ),
        "MAX_JSON_BYTES": parse_int(
            "MAX_JSON_BYTES", env.get("MAX_JSON_BYTES"), 1024 * 1024, lo=64 * 1024, hi=1 << 30
        ),
        "MAX_PAGE_SIZE": parse_int("MAX_PAGE_SIZE", env.get("MAX_PAGE_SIZE"), 100, lo=1, hi=1000),
        # One bucket per user for sends over the API and the socket alike.
        "SEND_RATE_LIMIT": env.get("SEND_RATE_LIMIT") or "120/minute",
        "TYPING_RATE_LIMIT": env.get("TYPING_RATE_LIMIT") or "40/minute",
        "UPLOADS_PER_DAY": parse_int(
            "UPLOADS_PER_DAY", env.get("UPLOADS_PER_DAY"), 200, lo=1, hi=1_000_000
        ),
        "UPLOAD_BYTES_PER_DAY": parse_int(
            "UPLOAD_BYTES_PER_DAY",
            env.get("UPLOAD_BYTES_PER_DAY"),
            500 * 1024 * 1024,
            lo=1024,
            hi=1 << 40,
        ),
        "UPLOAD_GRACE_HOURS": parse_int(
            "UPLOAD_GRACE_HOURS", env.get("UPLOAD_GRACE_HOURS"), 24, lo=1, hi=24 * 365
        ),
        "MAX_SOCKETS_PER_USER": parse_int(
            "MAX_SOCKETS_PER_USER", env.get("MAX_SOCKETS_PER_USER"), 20, lo=1, hi=10_000
        ),
        # How stale another process's watched words may be (this process's changes apply at once).
        "WATCHED_WORDS_REFRESH_SECONDS": parse_int(
            "WATCHED_WORDS_REFRESH_SECONDS",
            env.get("WATCHED_WORDS_REFRESH_SECONDS"),
            2,
            lo=0,
            hi=300,
        ),
        "PRESENCE_TTL": parse_int("PRESENCE_TTL", env.get("PRESENCE_TTL"), 30, lo=3, hi=3600),
        "ACTIVITY_INTERVAL": parse_int(
            "ACTIVITY_INTERVAL", env.get("ACTIVITY_INTERVAL"), 10, lo=1, hi=3600
        ),
        "SESSION_COOKIE_SECURE": parse_bool(
            "SESSION_COOKIE_SECURE", env.get("SESSION_COOKIE_SECURE")
        ),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_DAYS": parse_int("SESSION_DAYS", env.get("SESSION_DAYS"), 30, lo=1, hi=365),
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # CSRF is checked by our own before_request so Bearer-token API calls can skip it.
        "WTF_CSRF_CHECK_DEFAULT": False,
        "WTF_CSRF_TIME_LIMIT": None,
    }
    cfg["MAX_CONTENT_LENGTH"] = cfg["MAX_UPLOAD_BYTES"] + 64 * 1024
    cfg.update(overrides)
    # A login lasts SESSION_DAYS at most, with or without "remember me" (the user loader checks
    # the login's time too, so a copied cookie does not outlive it); the remember cookie is
    # Secure whenever the session cookie is.
    lifetime = timedelta(days=cfg["SESSION_DAYS"])
    cfg.setdefault("REMEMBER_COOKIE_DURATION", lifetime)
    cfg.setdefault("PERMANENT_SESSION_LIFETIME", lifetime)
    cfg.setdefault("REMEMBER_COOKIE_SECURE", cfg["SESSION_COOKIE_SECURE"])

    if not cfg["SECRET_KEY"]:
        if not (cfg["TESTING"] or debug):
            raise ConfigError(
                "SECRET_KEY is not set. Set it in the environment "
                "(for example: export SECRET_KEY=$(python -c "
                "'import secrets; print(secrets.token_hex(32))'))."
            )
        # Debug and test processes get a random per-process key: never a fixed fallback.
        cfg["SECRET_KEY"] = secrets.token_hex(32)
    return cfg
