"""One user's data as one JSON document, in the seed's shapes, streamed in keyset batches.

`{"user": User, "threads": [Thread], "messages": [Message], "reports": [Report],
"auditLog": [AuditEntry]}`: the profile, the threads they are in (participants as summaries),
every message they wrote with its attachments and mentions (removed ones included, marked
with `metadata.removed`), the reports they filed, and the audit rows whose target is them.
The generator holds one batch of rows at a time, so a user with a million messages streams
in constant memory. Starting an export writes a `user.export` audit row.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import AuditLog, Message, Participant, Report, Thread, User
from ...serializers import iso, message_json, thread_json, user_json
from .. import audit
from ..export import Watermarks

BATCH = 1000


def report_json(report: Report) -> dict[str, Any]:
    """Report: id, messageId, reporterId, reason, state, resolverId, resolutionNote, times."""
    return {
        "id": report.id,
        "messageId": report.message_id,
        "reporterId": report.reporter_id,
        "reason": report.reason,
        "state": report.state,
        "resolverId": report.resolver_id,
        "resolutionNote": report.resolution_note,
        "createdAt": iso(report.created_at),
        "resolvedAt": iso(report.resolved_at),
    }


def audit_json(row: AuditLog) -> dict[str, Any]:
    """AuditEntry: id, actorId, action, targetType, targetId, reason, details, createdAt."""
    return {
        "id": row.id,
        "actorId": row.actor_id,
        "action": row.action,
        "targetType": row.target_type,
        "targetId": row.target_id,
        "reason": row.reason,
        "details": dict(row.details or {}),
        "createdAt": iso(row.created_at),
    }


def start_user_export(user: User, *, actor: User | None, via: str) -> Iterator[str]:
    """Audit the export of `user`'s data, then return the document's chunks."""
    details: dict[str, Any] = {"via": via}
    if actor is None:
        details["actor"] = via
    audit.record(actor, "user.export", "user", user.id, details=details)
    db.session.commit()
    return _chunks(user.id)


def _dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def _array(key: str, batches: Iterator[list[dict[str, Any]]], first: bool = False) -> Iterator[str]:
    yield ("" if first else ",\n") + _dump(key) + ": ["
    sep = "\n"
    for items in batches:
        if items:
            yield sep + ",\n".join(_dump(item) for item in items)
            sep = ",\n"
    yield "\n]"


def _chunks(user_id: str) -> Iterator[str]:
    user = db.session.get(User, user_id)
    assert user is not None
    yield "{" + _dump("user") + ": " + _dump(user_json(user))
    db.session.expunge_all()
    yield from _array("threads", _thread_batches(user_id))
    yield from _array("messages", _message_batches(user_id))
    yield from _array("reports", _report_batches(user_id))
    yield from _array("auditLog", _audit_batches(user_id))
    yield "\n}\n"


def _thread_batches(user_id: str) -> Iterator[list[dict[str, Any]]]:
    member = sa.select(Participant.thread_id).where(Participant.user_id == user_id)
    after = ""
    while True:
        rows = list(
            db.session.scalars(
                sa.select(Thread)
                .where(Thread.id.in_(member), Thread.id > after)
                .options(selectinload(Thread.participants).selectinload(Participant.user))
                .order_by(Thread.id)
                .limit(BATCH)
            )
        )
        if not rows:
            return
        yield [thread_json(t, [p.user for p in t.participants]) for t in rows]
        after = rows[-1].id
        db.session.expunge_all()


def _message_batches(user_id: str) -> Iterator[list[dict[str, Any]]]:
    after = ""
    while True:
        rows = list(
            db.session.scalars(
                sa.select(Message)
                .where(Message.user_id == user_id, Message.id > after)
                .options(
                    selectinload(Message.user),
                    selectinload(Message.mentions),
                    selectinload(Message.attachments),
                )
                .order_by(Message.id)
                .limit(BATCH)
            )
        )
        if not rows:
            return
        marks = _watermarks({m.thread_id for m in rows})
        yield [
            message_json(
                m,
                author=m.user,
                mentions=[x.user_id for x in m.mentions],
                attachments=m.attachments,
                status=marks[m.thread_id].status(m) if m.thread_id in marks else "sent",
                reveal_removed=True,
            )
            for m in rows
        ]
        after = rows[-1].id
        db.session.expunge_all()


def _watermarks(thread_ids: set[str]) -> dict[str, Watermarks]:
    """Each thread's participants' watermarks (one query for the batch's threads)."""
    marks: dict[str, Watermarks] = {}
    rows = db.session.execute(
        sa.select(
            Participant.thread_id,
            Participant.user_id,
            Participant.delivered_through,
            Participant.read_through,
        ).where(Participant.thread_id.in_(sorted(thread_ids)))
    )
    for thread_id, uid, delivered, read in rows:
        w = marks.setdefault(thread_id, Watermarks({}, {}))
        w.delivered[uid] = delivered
        w.read[uid] = read
    return marks


def _report_batches(user_id: str) -> Iterator[list[dict[str, Any]]]:
    after = ""
    while True:
        rows = list(
            db.session.scalars(
                sa.select(Report)
                .where(Report.reporter_id == user_id, Report.id > after)
                .order_by(Report.id)
                .limit(BATCH)
            )
        )
        if not rows:
            return
        yield [report_json(r) for r in rows]
        after = rows[-1].id
        db.session.expunge_all()


def _audit_batches(user_id: str) -> Iterator[list[dict[str, Any]]]:
    after = ""
    while True:
        rows = list(
            db.session.scalars(
                sa.select(AuditLog)
                .where(
                    AuditLog.target_type == "user",
                    AuditLog.target_id == user_id,
                    AuditLog.id > after,
                )
                .order_by(AuditLog.id)
                .limit(BATCH)
            )
        )
        if not rows:
            return
        yield [audit_json(r) for r in rows]
        after = rows[-1].id
        db.session.expunge_all()
