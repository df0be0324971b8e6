"""The audit log: writing one row per staff action and target, and reading it back.

Rows are written in the caller's transaction (`record`, `record_many`), so a change and its
audit row commit together. `entries` reads the log for the Audit page, newest first.
Services import this; it imports models and the pagination helpers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import (
    Attachment,
    AuditLog,
    Message,
    Report,
    Thread,
    User,
    WatchedWord,
    new_id,
    utcnow,
)
from .errors import BadRequest
from .pagination import Page, decode_cursor, encode_cursor

PAGE_SIZE = 50
ACTIONS = (
    "thread.archive",
    "thread.unarchive",
    "thread.export",
    "message.hide",
    "message.restore",
    "report.dismiss",
    "report.action",
    "watched_word.add",
    "watched_word.delete",
    "user.cleanup",
    "user.cleanup.undo",
    "user.create",
    "user.deactivate",
    "user.reactivate",
    "user.role",
    "user.export",
    "user.erase",
    "thread.purge",
    "retention.run",
    "clerk.user.created",
    "clerk.user.updated",
    "clerk.user.deleted",
    "clerk.session.created",
    "attachment.view",
)


@dataclass
class AuditFilters:
    """The audit page's filters, as they come from the query string."""

    actor: str = ""  # a username
    action: str = ""
    target_type: str = ""
    target_id: str = ""
    since: str = ""  # YYYY-MM-DD or YYYY-MM-DDTHH:MM, UTC, inclusive
    until: str = ""  # same; a bare date includes that whole day

    def as_args(self) -> dict[str, str]:
        """The non-empty filters, for building URLs."""
        return {k: v for k, v in vars(self).items() if v}


def _parse_time(value: str, name: str, *, end: bool) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(
            f"'{name}' must be a date (YYYY-MM-DD) or a date and time.", {"field": name}
        ) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(tz=None).replace(tzinfo=None)
    if end and len(value) == 10:  # a bare date: up to the end of that day
        parsed += timedelta(days=1)
    return parsed


def entries(
    filters: AuditFilters, cursor: str | None = None, limit: int | None = None
) -> Page[AuditLog]:
    """Audit rows matching `filters`, newest first, one keyset page, with actors loaded."""
    limit = limit or PAGE_SIZE
    q = sa.select(AuditLog).options(joinedload(AuditLog.actor))
    if filters.actor.strip():
        name = filters.actor.strip().lower()
        q = q.where(
            AuditLog.actor_id.in_(
                sa.select(User.id).where(sa.func.lower(User.username) == name).scalar_subquery()
            )
        )
    if filters.action.strip():
        q = q.where(AuditLog.action == filters.action.strip())
    if filters.target_type.strip():
        q = q.where(AuditLog.target_type == filters.target_type.strip())
    if filters.target_id.strip():
        q = q.where(AuditLog.target_id == filters.target_id.strip())
    since = _parse_time(filters.since, "since", end=False)
    until = _parse_time(filters.until, "until", end=True)
    if since:
        q = q.where(AuditLog.created_at >= since)
    if until:
        q = q.where(AuditLog.created_at < until)
    if cursor:
        created, last_id = decode_cursor(cursor, datetime, str)
        q = q.where(sa.tuple_(AuditLog.created_at, AuditLog.id) < sa.tuple_(created, last_id))
    rows = list(
        db.session.scalars(
            q.order_by(AuditLog.created_at.desc(), AuditLog.id.desc()).limit(limit + 1)
        ).unique()
    )
    nxt = None
    if len(rows) > limit:
        rows = rows[:limit]
        nxt = encode_cursor(rows[-1].created_at, rows[-1].id)
    return Page(rows, nxt)


@dataclass(frozen=True)
class Target:
    """What an audit row's target is, in words: a thread's title, a username, an excerpt.

    `kind` says what to link to: "user" (user_id), "thread" (thread_id, message_id for a
    message or report target, to open it in context), "watched_word", or "gone" when the
    target no longer exists (an erased user, a purged thread).
    """

    kind: str
    label: str
    user_id: str | None = None
    thread_id: str | None = None
    message_id: str | None = None


# (target type, the select of those targets' rows by id, one row's columns as a Target). Each
# select puts the target's id first; describe_targets runs one per type present on the page.
_TargetQuery = tuple[str, Callable[[set[str]], sa.Executable], Callable[..., Target]]
_TARGET_QUERIES: tuple[_TargetQuery, ...] = (
    (
        "user",
        lambda ids: sa.select(User.id, User.username).where(User.id.in_(ids)),
        lambda uid, username: Target("user", username, user_id=uid),
    ),
    (
        "thread",
        lambda ids: sa.select(Thread.id, Thread.title).where(Thread.id.in_(ids)),
        lambda tid, title: Target("thread", title, thread_id=tid),
    ),
    (
        "message",
        lambda ids: sa.select(Message.id, Message.thread_id, Message.content).where(
            Message.id.in_(ids)
        ),
        lambda mid, tid, content: Target(
            "thread", _excerpt(content), thread_id=tid, message_id=mid
        ),
    ),
    (
        "report",
        lambda ids: (
            sa.select(Report.id, Message.id, Message.thread_id, Message.content)
            .join(Message, Message.id == Report.message_id)
            .where(Report.id.in_(ids))
        ),
        lambda rid, mid, tid, content: Target(
            "thread", f"report of “{_excerpt(content)}”", thread_id=tid, message_id=mid
        ),
    ),
    (
        "watched_word",
        lambda ids: sa.select(WatchedWord.id, WatchedWord.pattern).where(WatchedWord.id.in_(ids)),
        lambda wid, pattern: Target("watched_word", pattern),
    ),
    (
        "attachment",
        lambda ids: (
            sa.select(Attachment.id, Attachment.original_name, Message.id, Message.thread_id)
            .join(Message, Message.id == Attachment.message_id)
            .where(Attachment.id.in_(ids))
        ),
        lambda aid, name, mid, tid: Target(
            "thread", f"file “{name or 'attachment'}”", thread_id=tid, message_id=mid
        ),
    ),
    (
        # An undo's target is the clean-up's own audit row: name the user it cleaned up.
        "cleanup",
        lambda ids: (
            sa.select(AuditLog.id, User.id, User.username)
            .join(User, User.id == AuditLog.target_id)
            .where(AuditLog.id.in_(ids), AuditLog.target_type == "user")
        ),
        lambda cid, uid, username: Target("user", f"clean-up of {username}", user_id=uid),
    ),
)


def describe_targets(rows: list[AuditLog]) -> dict[tuple[str, str], Target]:
    """The targets of a page of audit rows, batch-loaded: one query per target type."""
    wanted: dict[str, set[str]] = {}
    for row in rows:
        wanted.setdefault(row.target_type, set()).add(row.target_id)
    out: dict[tuple[str, str], Target] = {}
    for target_type, query, to_target in _TARGET_QUERIES:
        if ids := wanted.get(target_type):
            for found in db.session.execute(query(ids)):
                out[(target_type, found[0])] = to_target(*found)
    for row in rows:
        key = (row.target_type, row.target_id)
        if key not in out:
            details = row.details or {}
            gone = details.get("username") or details.get("title") or details.get("pattern")
            label = f"{row.target_type.replace('_', ' ')} (gone)"
            out[key] = Target("gone", f"{gone} (gone)" if isinstance(gone, str) else label)
    return out


def _excerpt(text: str | None, length: int = 60) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


# -- writing ---------------------------------------------------------------------------------


def record(
    actor: User | None,
    action: str,
    target_type: str,
    target_id: str,
    *,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditLog:
    """Add one audit row to the current session (the caller commits it with the change)."""
    row = AuditLog(
        id=new_id(),
        actor_id=actor.id if actor else None,
        action=action,
        target_type=target_type,
        target_id=target_id,
        reason=reason,
        details=details or {},
        created_at=utcnow(),
    )
    db.session.add(row)
    return row


def record_many(
    actor: User | None,
    action: str,
    target_type: str,
    target_ids: list[str],
    *,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> int:
    """Add one audit row per target in a single multi-row INSERT; returns the row count."""
    if not target_ids:
        return 0
    now = utcnow()
    rows = [
        {
            "id": new_id(),
            "actor_id": actor.id if actor else None,
            "action": action,
            "target_type": target_type,
            "target_id": tid,
            "reason": reason,
            "details": details or {},
            "created_at": now,
        }
        for tid in target_ids
    ]
    db.session.execute(sa.insert(AuditLog), rows)
    return len(rows)
