"""Retention: threads archived longer than RETENTION_ARCHIVED_DAYS go, with their files.

`chatdesk retention --dry-run` counts what would go; without it each expired thread is
deleted in transactions of LIFECYCLE_BATCH_SIZE messages, newest first (a reply is always
newer than its parent, so no batch deletes a message another one still points at), then the
thread rows themselves with their participants and one `thread.purge` audit row each, a
hundred threads at a time. A summary row (`retention.run`) records the totals. An
interrupted run is finished by the next one. Files are removed before the rows that name
them are committed, as in erasure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ...extensions import db
from ...models import Attachment, AuditLog, Message, Thread, new_id, utcnow
from ...serializers import iso
from .. import audit
from ..errors import ValidationFailed
from .files import remove_files

THREAD_BATCH = 100


@dataclass
class RetentionResult:
    """What a run deleted (or, dry, would delete)."""

    cutoff: datetime
    dry_run: bool
    threads: int = 0
    messages: int = 0
    files: int = 0


def cutoff_for(days: int | None, now: datetime | None = None) -> datetime:
    """Threads archived before this moment are past retention."""
    if not days:
        raise ValidationFailed(
            "RETENTION_ARCHIVED_DAYS is not set: archived threads are kept.",
            {"fields": {"RETENTION_ARCHIVED_DAYS": "unset"}},
        )
    return (now or utcnow()) - timedelta(days=days)


def _expired(cutoff: datetime) -> sa.Select:
    return sa.select(Thread.id).where(
        Thread.is_archived.is_(True), Thread.archived_at.is_not(None), Thread.archived_at < cutoff
    )


def plan(cutoff: datetime) -> RetentionResult:
    """The counts a run at `cutoff` would delete (nothing is changed)."""
    expired = _expired(cutoff).subquery()
    result = RetentionResult(cutoff, dry_run=True)
    result.threads = int(db.session.scalar(sa.select(sa.func.count()).select_from(expired)) or 0)
    result.messages = int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Message)
            .where(Message.thread_id.in_(sa.select(expired.c.id)))
        )
        or 0
    )
    result.files = int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Attachment)
            .join(Message, Message.id == Attachment.message_id)
            .where(
                Message.thread_id.in_(sa.select(expired.c.id)),
                Attachment.storage_name.is_not(None),
            )
        )
        or 0
    )
    db.session.rollback()
    return result


def run(
    cutoff: datetime, *, dry_run: bool = False, progress: Callable[[int], None] = lambda n: None
) -> RetentionResult:
    """Delete every thread archived before `cutoff` (or only count them when `dry_run`)."""
    if dry_run:
        return plan(cutoff)
    batch = current_app.config["LIFECYCLE_BATCH_SIZE"]
    result = RetentionResult(cutoff, dry_run=False)
    after = ""
    while True:
        group = list(
            db.session.scalars(
                _expired(cutoff).where(Thread.id > after).order_by(Thread.id).limit(THREAD_BATCH)
            )
        )
        if group:
            _purge_group(group, batch, result, progress)
        if len(group) < THREAD_BATCH:
            break
        after = group[-1]
    audit.record(
        None,
        "retention.run",
        "retention",
        iso(cutoff) or "",
        details={
            "actor": "retention",
            "threads": result.threads,
            "messages": result.messages,
            "files": result.files,
        },
    )
    db.session.commit()
    return result


def _purge_group(
    thread_ids: list[str], batch: int, result: RetentionResult, progress: Callable[[int], None]
) -> None:
    """Delete a group of expired threads: their messages in batches, newest first, then them.

    Small threads share transactions (a batch spans the group), so ten thousand threads of a
    few messages each cost a few hundred statements, not a hundred thousand.
    """
    counts = _counts(thread_ids)
    archived: dict[str, datetime | None] = dict(
        db.session.execute(
            sa.select(Thread.id, Thread.archived_at).where(Thread.id.in_(thread_ids))
        ).all()
    )
    while True:
        ids = list(
            db.session.scalars(
                sa.select(Message.id)
                .where(Message.thread_id.in_(thread_ids))
                .order_by(Message.id.desc())
                .limit(batch)
            )
        )
        if not ids:
            break
        names = list(
            db.session.scalars(
                sa.select(Attachment.storage_name).where(
                    Attachment.message_id.in_(ids), Attachment.storage_name.is_not(None)
                )
            )
        )
        remove_files(names)
        # A reply older than its parent cannot come from the app, but never trip the FK on it.
        db.session.execute(
            sa.update(Message)
            .where(Message.parent_id.in_(ids), Message.id.not_in(ids))
            .values(parent_id=None)
            .execution_options(synchronize_session=False)
        )
        # Attachments, mentions and reports go with their message (ON DELETE CASCADE).
        db.session.execute(
            sa.delete(Message)
            .where(Message.id.in_(ids))
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        result.messages += len(ids)
        result.files += len(names)
        progress(len(ids))
    now = utcnow()
    rows = [
        {
            "id": new_id(),
            "actor_id": None,
            "action": "thread.purge",
            "target_type": "thread",
            "target_id": tid,
            "reason": None,
            "details": {
                "actor": "retention",
                "archivedAt": iso(archived[tid]),
                "messages": counts.get(tid, (0, 0))[0],
                "files": counts.get(tid, (0, 0))[1],
            },
            "created_at": now,
        }
        for tid in thread_ids
        if tid in archived
    ]
    if rows:
        db.session.execute(sa.insert(AuditLog), rows)
        db.session.execute(sa.delete(Thread).where(Thread.id.in_(list(archived))))
    db.session.commit()
    result.threads += len(rows)


def _counts(thread_ids: list[str]) -> dict[str, tuple[int, int]]:
    """(messages, stored files) per thread, before anything is deleted (for the audit rows)."""
    msgs = dict(
        db.session.execute(
            sa.select(Message.thread_id, sa.func.count())
            .where(Message.thread_id.in_(thread_ids))
            .group_by(Message.thread_id)
        ).all()
    )
    files = dict(
        db.session.execute(
            sa.select(Message.thread_id, sa.func.count())
            .join(Attachment, Attachment.message_id == Message.id)
            .where(Message.thread_id.in_(thread_ids), Attachment.storage_name.is_not(None))
            .group_by(Message.thread_id)
        ).all()
    )
    return {tid: (int(msgs.get(tid, 0)), int(files.get(tid, 0))) for tid in thread_ids}
