"""Reports: an end user reports a message, staff work the queue (dismiss, or hide the message)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from .. import events
from ..extensions import db
from ..models import Message, Participant, Report, User, new_id, utcnow
from ..serializers import iso
from . import audit, moderation, threads
from .errors import Conflict, Forbidden, NotFound, ValidationFailed
from .pagination import Page, decode_cursor, encode_cursor
from .reasons import clean_reason

PAGE_SIZE = 50
NOTE_MAX = 500  # a hide reason is stored in messages.hidden_reason (500)
REASON_MAX = 1000  # reports.reason
ACTIONS = ("dismiss", "hide", "archive")


def report_message(reporter: User, message_id: str, reason: Any) -> dict[str, Any]:
    """Report a message of one's threads to the moderators (`report:new` on /live)."""
    text = clean_reason(reason if isinstance(reason, str) else None, max_length=REASON_MAX)
    thread_id = db.session.scalar(
        sa.select(Message.thread_id)
        .join(
            Participant,
            sa.and_(Participant.thread_id == Message.thread_id, Participant.user_id == reporter.id),
        )
        .where(Message.id == message_id)
    )
    if thread_id is None:
        raise NotFound("There is no such message.")
    report = Report(id=new_id(), message_id=message_id, reporter_id=reporter.id, reason=text)
    db.session.add(report)
    db.session.commit()
    payload = {
        "id": report.id,
        "messageId": message_id,
        "threadId": thread_id,
        "reason": report.reason,
        "state": report.state or "open",
        "createdAt": iso(report.created_at),
    }
    events.report_new({"id": report.id, "messageId": message_id, "threadId": thread_id})
    return payload


def open_reports(cursor: str | None = None, limit: int | None = None) -> Page[Report]:
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
        created, last_id = decode_cursor(cursor, datetime, str)
        q = q.where(sa.tuple_(Report.created_at, Report.id) > sa.tuple_(created, last_id))
    rows = list(
        db.session.scalars(q.order_by(Report.created_at, Report.id).limit(limit + 1)).unique()
    )
    nxt = None
    if len(rows) > limit:
        rows = rows[:limit]
        nxt = encode_cursor(rows[-1].created_at, rows[-1].id)
    return Page(rows, nxt)


def resolve(actor: User, report_id: str, action: str, note: str | None) -> Report:
    """Dismiss a report, hide its message, or archive the message's thread; hiding and
    archiving resolve every open report of the message.

    Audited as `report.dismiss` or `report.action`, one row per report resolved; an archive is
    also audited as `thread.archive`, like any other (one transaction for all of it).
    """
    if not actor.has_role("moderator"):
        raise Forbidden("Only moderators and admins can resolve reports.")
    if action not in ACTIONS:
        raise ValidationFailed(
            "Choose dismiss, hide or archive.",
            {"fields": {"action": "dismiss, hide or archive"}},
        )
    note = clean_reason(note, max_length=NOTE_MAX, field_name="note")
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
    if action == "archive":
        return _archive_thread_of(actor, report, note, now)
    # The hide, the report states and every audit row commit together, or not at all.
    hidden_now = moderation.stage_hide(actor, message_id, note) is not None
    _action_open_reports(actor, message_id, note, now, {"messageId": message_id})
    db.session.commit()
    if hidden_now:
        moderation.announce(message_id)
    db.session.expire_all()
    return db.session.get(Report, report_id)


def _archive_thread_of(actor: User, report: Report, note: str, now: datetime) -> Report:
    """Archive the reported message's thread and close the message's open reports."""
    message_id = report.message_id
    thread_id = db.session.scalar(sa.select(Message.thread_id).where(Message.id == message_id))
    if thread_id is None:
        raise NotFound("The reported message is gone.")
    _action_open_reports(
        actor,
        message_id,
        note,
        now,
        {"messageId": message_id, "threadId": thread_id, "archived": True},
    )
    # set_archived stages the thread's UPDATE and its `thread.archive` row, then commits the
    # report changes above with them (an already archived thread just closes the reports).
    threads.set_archived(actor, [thread_id], True, note)
    db.session.expire_all()
    return db.session.get(Report, report.id)


def _action_open_reports(
    actor: User, message_id: str, note: str, now: datetime, details: dict[str, Any]
) -> None:
    """Stage every open report of the message as actioned, with a `report.action` row each."""
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
    audit.record_many(actor, "report.action", "report", ids, reason=note, details=details)
