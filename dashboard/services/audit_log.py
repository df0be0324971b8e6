"""Reading the audit log: filters by actor, action, target and time; newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import AuditLog, User
from .errors import BadRequest
from .users_admin import Page

PAGE_SIZE = 50
ACTIONS = (
    "thread.archive",
    "thread.unarchive",
    "thread.export",
    "message.hide",
    "message.restore",
    "report.dismiss",
    "report.action",
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


def entries(filters: AuditFilters, cursor: str | None = None, limit: int | None = None) -> Page:
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
        at, sep, last_id = cursor.rpartition("|")
        try:
            created = datetime.fromisoformat(at)
        except ValueError:
            raise BadRequest("That page link is not valid.") from None
        if not sep:
            raise BadRequest("That page link is not valid.")
        q = q.where(sa.tuple_(AuditLog.created_at, AuditLog.id) < sa.tuple_(created, last_id))
    rows = list(
        db.session.scalars(
            q.order_by(AuditLog.created_at.desc(), AuditLog.id.desc()).limit(limit + 1)
        ).unique()
    )
    nxt = None
    if len(rows) > limit:
        rows = rows[:limit]
        nxt = f"{rows[-1].created_at.isoformat()}|{rows[-1].id}"
    return Page(rows, nxt)
