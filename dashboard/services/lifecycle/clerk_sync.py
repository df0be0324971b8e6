"""Clerk's webhook events applied to the users table (the request was verified by the caller).

- `user.created` / `user.updated`: upsert from Clerk's user object. An event whose
  `updated_at` is older than the one already applied changes nothing (deliveries can arrive
  out of order); an erased account is never filled in again.
- `user.deleted`: deactivate (sessions and sockets end), then erase when CLERK_DELETE_ERASES.
- `session.created`: the user's lastLoginAt.
- anything else: ignored.

Each delivery's svix-id is stored in the same transaction as its change, so a redelivery is a
no-op. Every handled event writes one audit row with the actor `clerk` (actor_id is null and
details.actor says who).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import User, WebhookEvent, utcnow
from .. import audit
from ..users.accounts import EMAIL_RE, _derive_username, _email_taken
from . import erasure

log = logging.getLogger(__name__)
ACTOR = "clerk"
USER_EVENTS = ("user.created", "user.updated")
# Svix retries a delivery for about a day and a half; its id is kept well beyond that.
SEEN_DAYS = 30
HANDLED = (*USER_EVENTS, "user.deleted", "session.created")


@dataclass
class Handled:
    """What a delivery did, and whose sessions the caller must end (services do not emit)."""

    outcome: str
    end_sessions_of: str | None = None


class BadEvent(ValueError):
    """The verified payload is not shaped like a Clerk event."""


def ms_to_datetime(value: Any) -> datetime | None:
    """Clerk's Unix milliseconds as a naive UTC datetime (None for null or nonsense)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value / 1000, UTC).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        return None


def handle_event(svix_id: str, event: Any) -> Handled:
    """Apply one verified delivery: its outcome ('applied', 'duplicate', 'stale', …)."""
    if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
        raise BadEvent("not a Clerk event")
    kind = str(event.get("type") or "")
    data = event["data"]
    if db.session.get(WebhookEvent, svix_id) is not None:
        if kind == "user.deleted":
            _finish_erasure(data)  # a retry after an interrupted erasure completes it
        return Handled("duplicate")
    db.session.add(WebhookEvent(svix_id=svix_id, event_type=kind[:64], received_at=utcnow()))
    user_id: str | None
    if kind in USER_EVENTS:
        outcome, user_id = _upsert(data)
    elif kind == "user.deleted":
        outcome, user_id = _deactivate(data)
    elif kind == "session.created":
        outcome, user_id = _session(data)
    else:
        outcome, user_id = "ignored", None
    if user_id is not None:
        audit.record(
            None,
            f"clerk.{kind}",
            "user",
            user_id,
            details={"actor": ACTOR, "svixId": svix_id, "outcome": outcome},
        )
    try:
        db.session.commit()
    except IntegrityError:
        # The same delivery raced in on another worker and won: it did the work.
        db.session.rollback()
        return Handled("duplicate")
    log.info("clerk webhook %s %s: %s", svix_id, kind, outcome)
    if kind == "user.deleted" and outcome == "applied":
        _finish_erasure(data)
        return Handled(outcome, end_sessions_of=user_id)
    return Handled(outcome)


def _primary_email(data: dict[str, Any]) -> str | None:
    primary = data.get("primary_email_address_id")
    for entry in data.get("email_addresses") or []:
        if isinstance(entry, dict) and entry.get("id") == primary:
            email = entry.get("email_address")
            return email.strip() if isinstance(email, str) else None
    return None


def _text(value: Any, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def _user_id(data: dict[str, Any], key: str = "id") -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value or len(value) > 64:
        raise BadEvent(f"data.{key} is not a user id")
    return value


def _upsert(data: dict[str, Any]) -> tuple[str, str]:
    """Create or update the User from Clerk's user object, newer updated_at winning."""
    user_id = _user_id(data)
    updated = ms_to_datetime(data.get("updated_at"))
    user = db.session.get(User, user_id)
    if user is not None and user.erased_at is not None:
        log.info("clerk: user %s was erased; ignoring its profile", user_id)
        return "erased", user_id
    if user is not None and user.clerk_updated_at and updated and updated < user.clerk_updated_at:
        return "stale", user_id
    email = _primary_email(data)
    if email and (not EMAIL_RE.match(email) or _email_taken(email, exclude_id=user_id)):
        log.warning("clerk: user %s email is malformed or belongs to another account", user_id)
        email = None
    wanted = data.get("username") if isinstance(data.get("username"), str) else None
    username = _derive_username({"username": wanted, "email": email}, user_id)
    if wanted and username != wanted:
        log.warning("clerk: username %r is taken; user %s is %r", wanted, user_id, username)
    if user is None:
        user = User(id=user_id, role="user")
        db.session.add(user)
    user.username = username
    user.email = email
    user.first_name = _text(data.get("first_name"), 100)
    user.last_name = _text(data.get("last_name"), 100)
    user.image_url = _text(data.get("image_url"), 2048)
    user.created_at = ms_to_datetime(data.get("created_at")) or user.created_at or utcnow()
    user.updated_at = updated or utcnow()
    user.clerk_updated_at = updated or user.clerk_updated_at
    signed_in = ms_to_datetime(data.get("last_sign_in_at"))
    if signed_in and (user.last_login_at is None or signed_in > user.last_login_at):
        user.last_login_at = signed_in
    return "applied", user_id


def _deactivate(data: dict[str, Any]) -> tuple[str, str]:
    user_id = _user_id(data)
    user = db.session.get(User, user_id)
    if user is None:
        return "unknown user", user_id
    if user.is_active:
        user.is_active = False
        user.session_version += 1
        user.updated_at = utcnow()
    return "applied", user_id


def _finish_erasure(data: dict[str, Any]) -> None:
    if not current_app.config["CLERK_DELETE_ERASES"]:
        return
    user_id = data.get("id")
    if isinstance(user_id, str) and db.session.get(User, user_id) is not None:
        erasure.erase_user(user_id, actor=None, reason="deleted in Clerk", via=ACTOR)


def _session(data: dict[str, Any]) -> tuple[str, str]:
    user_id = _user_id(data, "user_id")
    user = db.session.get(User, user_id)
    if user is None:
        return "unknown user", user_id
    if user.erased_at is not None:
        return "erased", user_id
    at = ms_to_datetime(data.get("created_at")) or utcnow()
    if user.last_login_at is not None and at <= user.last_login_at:
        return "stale", user_id
    user.last_login_at = at
    return "applied", user_id


def forget_deliveries(now: datetime | None = None) -> int:
    """Drop the svix-ids of deliveries older than SEEN_DAYS (no retry can carry them now)."""
    cutoff = (now or utcnow()) - timedelta(days=SEEN_DAYS)
    res = db.session.execute(sa.delete(WebhookEvent).where(WebhookEvent.received_at < cutoff))
    db.session.commit()
    return erasure.rowcount(res)
