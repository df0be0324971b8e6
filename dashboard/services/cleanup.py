"""Spam clean-up: hide all of one user's messages in a time window in one audited bulk action.

`clean_up` is one UPDATE of `messages` (RETURNING the ids it hid) and one INSERT into the
audit log, whose `user.cleanup` row keeps the exact set of ids and the hide's time, reason
and actor; deactivating the user as well adds one UPDATE of the user and a second audit row in
that same INSERT. `undo` restores exactly that set, and of it only the messages still hidden by
that clean-up (a message restored and hidden again since is another action's and stays).
Each changed message is announced as `message:updated` after the commit, so open chats
update live; everything else goes through the services' shared helpers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from .. import events
from ..extensions import db
from ..models import AuditLog, Message, User, new_id, utcnow
from ..serializers import message_payloads
from . import staff_rules
from .errors import Conflict, NotFound, ValidationFailed
from .reasons import clean_reason

WINDOWS = {
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(days=7),
    "all": None,
    "custom": None,
}
WINDOW_LABELS = {
    "hour": "the last hour",
    "day": "the last day",
    "week": "the last week",
    "all": "every thread, all time",
    "custom": "a custom window",
}
CLEANUP_MAX = 5000  # ids kept in one audit row; a bigger spree is cleaned in several windows
REASON_MAX = 500  # messages.hidden_reason


@dataclass
class Result:
    """What a clean-up or its undo changed."""

    audit_id: str | None
    user: User
    message_ids: list[str] = field(default_factory=list)
    thread_ids: list[str] = field(default_factory=list)
    deactivated: bool = False
    reactivated: bool = False

    @property
    def count(self) -> int:
        return len(self.message_ids)


def _parse_time(value: Any, name: str) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(
            "Give the time as YYYY-MM-DD HH:MM (UTC).", {"fields": {name: "a date and time"}}
        ) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(tz=None).replace(tzinfo=None)
    return parsed


def _bounds(window: Any, since: Any, until: Any) -> tuple[datetime | None, datetime | None]:
    if window not in WINDOWS:
        raise ValidationFailed(
            "Choose the last hour, day, week, all time or a custom window.",
            {"fields": {"window": "hour, day, week, all or custom"}},
        )
    if window == "custom":
        start, end = _parse_time(since, "since"), _parse_time(until, "until")
        if start is None and end is None:
            raise ValidationFailed(
                "A custom window needs a start, an end or both.", {"fields": {"since": "required"}}
            )
        if start and end and start >= end:
            raise ValidationFailed(
                "The window's start must be before its end.", {"fields": {"until": "after start"}}
            )
        return start, end
    span = WINDOWS[window]
    return (utcnow() - span if span else None), None


def _announce(ids: list[str]) -> None:
    """Send each message's public form to its thread's open chats (one query batch)."""
    rows = list(
        db.session.scalars(sa.select(Message).where(Message.id.in_(ids)).order_by(Message.id))
    )
    for msg, payload in zip(rows, message_payloads(rows), strict=True):
        events.message_updated(msg.thread_id, payload)


def _target(user_id: str) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("There is no such user.")
    return user


def _account_row(
    action: str, actor: User, user: User, reason: str, cleanup_id: str, now: datetime
) -> dict[str, Any]:
    """The `user.deactivate` or `user.reactivate` audit row a clean-up or its undo adds."""
    return {
        "id": new_id(),
        "actor_id": actor.id,
        "action": action,
        "target_type": "user",
        "target_id": user.id,
        "reason": reason,
        "details": {"actorRole": actor.role, "cleanup": cleanup_id},
        "created_at": now,
    }


def clean_up(
    actor: User,
    user_id: str,
    *,
    window: Any,
    reason: Any,
    since: Any = None,
    until: Any = None,
    deactivate: bool = False,
) -> Result:
    """Hide the user's visible messages created in the window (and maybe deactivate them).

    One UPDATE and one audit INSERT; nothing is written when there is nothing to change.
    """
    user = _target(user_id)
    staff_rules.check(actor, "cleanup", user)
    if deactivate and user.is_active:
        staff_rules.check(actor, "deactivate", user)
    text = clean_reason(reason if isinstance(reason, str) else None, max_length=REASON_MAX)
    start, end = _bounds(window, since, until)
    now = utcnow()
    conds = [
        Message.user_id == user.id,
        Message.hidden_at.is_(None),
        Message.deleted_at.is_(None),
        Message.erased_at.is_(None),
    ]
    if start is not None:
        conds.append(Message.created_at >= start)
    if end is not None:
        conds.append(Message.created_at < end)
    hidden = db.session.execute(
        sa.update(Message)
        .where(*conds)
        .values(hidden_at=now, hidden_by_id=actor.id, hidden_reason=text, updated_at=now)
        .returning(Message.id, Message.thread_id)
        .execution_options(synchronize_session=False)
    ).all()
    if len(hidden) > CLEANUP_MAX:
        db.session.rollback()
        raise ValidationFailed(
            f"That window holds {len(hidden)} messages; one clean-up hides at most "
            f"{CLEANUP_MAX}. Choose a shorter window.",
            {"fields": {"window": f"at most {CLEANUP_MAX} messages"}, "limit": CLEANUP_MAX},
        )
    ids = sorted(row[0] for row in hidden)
    thread_ids = sorted({row[1] for row in hidden})
    deactivating = deactivate and user.is_active
    if not ids and not deactivating:
        db.session.rollback()
        return Result(None, user)
    if deactivating:
        user.is_active = False
        user.session_version += 1
        user.updated_at = now
    audit_id = new_id()
    rows = [
        {
            "id": audit_id,
            "actor_id": actor.id,
            "action": "user.cleanup",
            "target_type": "user",
            "target_id": user.id,
            "reason": text,
            "details": {
                "window": window,
                "since": start.isoformat() if start else None,
                "until": end.isoformat() if end else None,
                "count": len(ids),
                "threadIds": thread_ids,
                "messageIds": ids,
                "hiddenAt": now.isoformat(timespec="microseconds"),
                "deactivated": deactivating,
            },
            "created_at": now,
        }
    ]
    if deactivating:
        rows.append(_account_row("user.deactivate", actor, user, text, audit_id, now))
    db.session.execute(sa.insert(AuditLog), rows)
    db.session.commit()
    if deactivating:
        events.sessions_ended(user.id)
    if ids:
        _announce(ids)
    return Result(audit_id, user, ids, thread_ids, deactivated=deactivating)


def _cleanup_row(audit_id: str) -> AuditLog:
    row = db.session.get(AuditLog, audit_id)
    if row is None or row.action != "user.cleanup":
        raise NotFound("There is no such clean-up.")
    return row


def undone(audit_ids: list[str]) -> set[str]:
    """Which of these clean-ups were undone already."""
    if not audit_ids:
        return set()
    return set(
        db.session.scalars(
            sa.select(AuditLog.target_id).where(
                AuditLog.action == "user.cleanup.undo",
                AuditLog.target_type == "cleanup",
                AuditLog.target_id.in_(audit_ids),
            )
        )
    )


def recent(user_id: str, limit: int = 3) -> list[tuple[AuditLog, bool]]:
    """The user's latest clean-ups, newest first, each with whether it was undone."""
    rows = list(
        db.session.scalars(
            sa.select(AuditLog)
            .options(joinedload(AuditLog.actor))
            .where(
                AuditLog.action == "user.cleanup",
                AuditLog.target_type == "user",
                AuditLog.target_id == user_id,
            )
            .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
            .limit(limit)
        )
    )
    done = undone([r.id for r in rows])
    return [(r, r.id in done) for r in rows]


def undo(actor: User, audit_id: str, reason: Any = None) -> Result:
    """Restore the messages a clean-up hid (those it still hides) and reactivate the user if
    it deactivated them; audited as `user.cleanup.undo`. Undoing twice is a Conflict."""
    row = _cleanup_row(audit_id)
    user = _target(row.target_id)
    staff_rules.check(actor, "cleanup", user)
    if undone([audit_id]):
        raise Conflict("That clean-up was undone already.")
    text = (reason.strip() if isinstance(reason, str) else "") or "Undo of a spam clean-up"
    text = clean_reason(text, max_length=REASON_MAX)
    details = row.details or {}
    ids = list(details.get("messageIds") or [])
    hidden_at = datetime.fromisoformat(details["hiddenAt"])
    now = utcnow()
    restored: list[Any] = []
    if ids:
        restored = list(
            db.session.execute(
                sa.update(Message)
                .where(
                    Message.id.in_(ids),
                    # Still hidden by this clean-up, not by a later action.
                    Message.hidden_at == hidden_at,
                    Message.hidden_by_id == row.actor_id,
                    Message.hidden_reason == row.reason,
                )
                .values(hidden_at=None, hidden_by_id=None, hidden_reason=None, updated_at=now)
                .returning(Message.id, Message.thread_id)
                .execution_options(synchronize_session=False)
            ).all()
        )
    reactivating = bool(details.get("deactivated")) and not user.is_active
    if reactivating and staff_rules.refusal(actor, "reactivate", user) is not None:
        reactivating = False  # e.g. erased since, or an admin's call: the messages come back
    if reactivating:
        user.is_active = True
        user.session_version += 1
        user.updated_at = now
    restored_ids = sorted(r[0] for r in restored)
    rows = [
        {
            "id": new_id(),
            "actor_id": actor.id,
            "action": "user.cleanup.undo",
            "target_type": "cleanup",
            "target_id": audit_id,
            "reason": text,
            "details": {
                "userId": user.id,
                "count": len(restored_ids),
                "messageIds": restored_ids,
                "reactivated": reactivating,
            },
            "created_at": now,
        }
    ]
    if reactivating:
        rows.append(_account_row("user.reactivate", actor, user, text, audit_id, now))
    db.session.execute(sa.insert(AuditLog), rows)
    db.session.commit()
    if restored_ids:
        _announce(restored_ids)
    return Result(
        audit_id,
        user,
        restored_ids,
        sorted({r[1] for r in restored}),
        reactivated=reactivating,
    )
