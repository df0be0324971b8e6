"""The reports queue: open reports, and resolving one (dismiss, or hide the message)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Message, Report, User, utcnow
from . import audit, moderation
from .errors import BadRequest, Conflict, Forbidden, NotFound, ValidationFailed
from .users_admin import Page

PAGE_SIZE = 50
NOTE_MAX = 500  # a hide reason is stored in messages.hidden_reason (500)
ACTIONS = ("dismiss", "hide")


def open_reports(cursor: str | None = None, limit: int | None = None) -> Page:
    """Open reports, oldest first (the queue order), with message, author and reporter loaded."""
    limit = limit or PAGE_SIZE
    q = (
        sa.select(Report)
        .where(Report.state == "open")
        .options(
            joinedload(Report.reporter),
            joinedload(Report.message).joinedload(Message.user),
        )
    )
    if cursor:
        at, sep, last_id = cursor.rpartition("|")
        try:
            created = datetime.fromisoformat(at)
        except ValueError:
            raise BadRequest("That page link is not valid.") from None
        if not sep:
            raise BadRequest("That page link is not valid.")
        q = q.where(sa.tuple_(Report.created_at, Report.id) > sa.tuple_(created, last_id))
    rows = list(
        db.session.scalars(q.order_by(Report.created_at, Report.id).limit(limit + 1)).unique()
    )
    nxt = None
    if len(rows) > limit:
        rows = rows[:limit]
        nxt = f"{rows[-1].created_at.isoformat()}|{rows[-1].id}"
    return Page(rows, nxt)


def resolve(actor: User, report_id: str, action: str, note: str | None) -> Report:
    """Dismiss a report, or hide its message (which resolves every open report of it).

    Audited as `report.dismiss` or `report.action`, one row per report resolved.
    """
    if not actor.has_role("moderator"):
        raise Forbidden("Only moderators and admins can resolve reports.")
    if action not in ACTIONS:
        raise ValidationFailed("Choose dismiss or hide.", {"fields": {"action": "dismiss or hide"}})
    note = (note or "").strip()
    if not note:
        raise ValidationFailed("Give a reason.", {"fields": {"note": "required"}})
    if len(note) > NOTE_MAX:
        raise ValidationFailed(
            "The reason is too long.", {"fields": {"note": f"at most {NOTE_MAX} characters"}}
        )
    report = db.session.get(Report, report_id)
    if report is None:
        raise NotFound("No such report.")
    if report.state != "open":
        raise Conflict("That report was already resolved.")
    now = utcnow()
    if action == "dismiss":
        report.state = "dismissed"
        report.resolver_id = actor.id
        report.resolution_note = note
        report.resolved_at = now
        audit.record(actor, "report.dismiss", "report", report.id, reason=note)
        db.session.commit()
        return report

    message_id = report.message_id
    # The hide, the report states and every audit row commit together, or not at all.
    hidden_now = moderation.stage_hide(actor, message_id, note) is not None
    ids = list(
        db.session.scalars(
            sa.select(Report.id).where(Report.message_id == message_id, Report.state == "open")
        )
    )
    db.session.execute(
        sa.update(Report)
        .where(Report.id.in_(ids))
        .values(state="actioned", resolver_id=actor.id, resolution_note=note, resolved_at=now)
        .execution_options(synchronize_session=False)
    )
    audit.record_many(
        actor, "report.action", "report", ids, reason=note, details={"messageId": message_id}
    )
    db.session.commit()
    if hidden_now:
        moderation.announce(message_id)
    db.session.expire_all()
    return db.session.get(Report, report_id)
