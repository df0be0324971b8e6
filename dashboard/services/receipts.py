"""Delivery and read receipts: per-participant watermarks that only ever move forward.

A message is `delivered` once every other participant's delivered watermark has passed it and
`read` once every other participant's read watermark has. Moving a watermark pushes
`message:status` to the senders whose messages changed status.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from .. import events
from ..extensions import db
from ..models import Message, Participant
from .errors import NotFound, ValidationFailed

# A status push names at most this many messages (the newest); clients treat a status as
# covering everything older of theirs in the thread, too.
MAX_IDS = 500


def _ids(thread_id: Any, message_id: Any) -> tuple[str, str]:
    if not isinstance(thread_id, str) or not thread_id:
        raise ValidationFailed("threadId is required.", {"fields": {"threadId": "required"}})
    if not isinstance(message_id, str) or not message_id:
        raise ValidationFailed("messageId is required.", {"fields": {"messageId": "required"}})
    return thread_id, message_id


def mark_delivered(user_id: str, thread_id: Any, message_id: Any) -> dict[str, Any]:
    """The caller has received the thread up to `message_id`."""
    return _mark(user_id, *_ids(thread_id, message_id), read=False)


def mark_read(user_id: str, thread_id: Any, message_id: Any) -> dict[str, Any]:
    """The caller has read the thread up to `message_id` (which also means received it)."""
    return _mark(user_id, *_ids(thread_id, message_id), read=True)


def _mark(user_id: str, thread_id: str, message_id: str, *, read: bool) -> dict[str, Any]:
    parts = {
        p.user_id: p
        for p in db.session.scalars(
            sa.select(Participant).where(Participant.thread_id == thread_id)
        )
    }
    me = parts.get(user_id)
    if me is None:
        raise NotFound("There is no such thread.")
    in_thread = db.session.scalar(
        sa.select(Message.id).where(Message.id == message_id, Message.thread_id == thread_id)
    )
    if in_thread is None:
        raise NotFound("There is no such message in this thread.")

    old_d = max(me.delivered_through or "", me.read_through or "")
    old_r = me.read_through or ""
    new_d = max(old_d, message_id)
    new_r = max(old_r, message_id) if read else old_r
    if new_d == (me.delivered_through or "") and new_r == old_r:
        db.session.rollback()
        return {"threadId": thread_id, "deliveredThrough": new_d, "readThrough": new_r or None}

    # Conditional updates: a concurrent, further-ahead mark is never moved back.
    for col, value in ((Participant.delivered_through, new_d), (Participant.read_through, new_r)):
        if not value:
            continue
        db.session.execute(
            sa.update(Participant)
            .where(
                Participant.thread_id == thread_id,
                Participant.user_id == user_id,
                sa.or_(col.is_(None), col < value),
            )
            .values({col: value})
            .execution_options(synchronize_session=False)
        )

    # Which messages of other senders changed status because this mark moved.
    low = old_r if read else old_d
    candidates = db.session.execute(
        sa.select(Message.id, Message.user_id)
        .where(
            Message.thread_id == thread_id,
            Message.user_id != user_id,
            Message.id > low,
            Message.id <= new_d,
        )
        .order_by(Message.id.desc())
        .limit(MAX_IDS)
    ).all()
    db.session.commit()

    marks = {uid: (p.delivered_through, p.read_through) for uid, p in parts.items()}
    marks[user_id] = (new_d, new_r or None)
    pushes: dict[tuple[str, str], list[str]] = defaultdict(list)
    for mid, sender in candidates:
        others = [m for uid, m in marks.items() if uid != sender]
        now_read = all((r or "") >= mid for _, r in others)
        now_delivered = all(max(d or "", r or "") >= mid for d, r in others)
        if read and mid > old_r and now_read:
            pushes[(sender, "read")].append(mid)
        elif now_delivered and mid > old_d:
            pushes[(sender, "delivered")].append(mid)
    for (sender, status), ids in pushes.items():
        events.message_status(thread_id, sender, sorted(ids), status)
    return {"threadId": thread_id, "deliveredThrough": new_d, "readThrough": new_r or None}
