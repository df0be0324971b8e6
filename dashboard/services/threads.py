"""End users' threads: create, read, rename, membership, and the caller's thread list.

Only participants see a thread: everyone else gets NotFound (never Forbidden), so existence
does not leak. Each write commits, then announces itself through realtime.broadcast.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import Message, Participant, Thread, User, new_id, utcnow
from ..realtime import broadcast
from ..serializers import iso, thread_json
from .errors import BadRequest, Forbidden, NotFound, ValidationFailed

NAME_MAX = 100
METADATA_MAX_BYTES = 8 * 1024


def _not_found() -> NotFound:
    return NotFound("There is no such thread.")


def get_thread(user_id: str, thread_id: str) -> Thread:
    """The thread, if `user_id` takes part in it; NotFound otherwise."""
    row = db.session.execute(
        sa.select(Thread)
        .join(Participant, Participant.thread_id == Thread.id)
        .where(Thread.id == thread_id, Participant.user_id == user_id)
    ).scalar_one_or_none()
    if row is None:
        raise _not_found()
    return row


def participant_ids(thread_id: str) -> list[str]:
    """The user ids taking part in a thread, in joining order."""
    return list(
        db.session.scalars(
            sa.select(Participant.user_id)
            .where(Participant.thread_id == thread_id)
            .order_by(Participant.joined_at)
        )
    )


def thread_ids_for(user_id: str) -> list[str]:
    """Every thread `user_id` takes part in."""
    return list(
        db.session.scalars(sa.select(Participant.thread_id).where(Participant.user_id == user_id))
    )


def co_participant_ids(user_id: str) -> list[str]:
    """Everyone who shares at least one thread with `user_id` (not themselves)."""
    mine = sa.select(Participant.thread_id).where(Participant.user_id == user_id)
    return list(
        db.session.scalars(
            sa.select(Participant.user_id)
            .where(Participant.thread_id.in_(mine), Participant.user_id != user_id)
            .distinct()
        )
    )


def _participants_by_thread(thread_ids: list[str]) -> dict[str, list[User]]:
    """Participants (as Users) of each thread, in joining order: one query."""
    out: dict[str, list[User]] = {tid: [] for tid in thread_ids}
    if not thread_ids:
        return out
    rows = db.session.execute(
        sa.select(Participant.thread_id, User)
        .join(User, User.id == Participant.user_id)
        .where(Participant.thread_id.in_(thread_ids))
        .order_by(Participant.thread_id, Participant.joined_at)
    ).all()
    for tid, user in rows:
        out[tid].append(user)
    return out


def thread_payload(thread: Thread, users: list[User] | None = None) -> dict[str, Any]:
    """The Thread JSON (participants as user summaries)."""
    if users is None:
        users = _participants_by_thread([thread.id])[thread.id]
    return thread_json(thread, users)


def _check_fields(
    title: Any = None, name: Any = None, metadata: Any = None, *, need_title: bool
) -> dict[str, str]:
    errors: dict[str, str] = {}
    max_title = current_app.config["MAX_TITLE_CHARS"]
    if title is None:
        if need_title:
            errors["title"] = "required"
    elif not isinstance(title, str) or not title.strip():
        errors["title"] = "must be a non-empty string"
    elif len(title.strip()) > max_title:
        errors["title"] = f"at most {max_title} characters"
    if name is not None and (not isinstance(name, str) or len(name) > NAME_MAX):
        errors["name"] = f"a string of at most {NAME_MAX} characters"
    if metadata is not None:
        if not isinstance(metadata, dict):
            errors["metadata"] = "must be an object"
        elif len(repr(metadata)) > METADATA_MAX_BYTES:
            errors["metadata"] = f"at most {METADATA_MAX_BYTES} bytes"
    return errors


def _existing_user_ids(user_ids: list[str]) -> set[str]:
    if not user_ids:
        return set()
    return set(db.session.scalars(sa.select(User.id).where(User.id.in_(user_ids), User.is_active)))


def _clean_ids(value: Any, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValidationFailed(
            f"{field} must be a list of user ids.", {"fields": {field: "a list of ids"}}
        )
    if len(value) > 100:
        raise ValidationFailed("Too many participants.", {"fields": {field: "at most 100"}})
    return list(dict.fromkeys(value))


def create_thread(
    creator: User,
    *,
    title: Any,
    participant_ids: Any,
    name: Any = None,
    metadata: Any = None,
) -> dict[str, Any]:
    """Start a thread with `participant_ids` (the creator is always included); its JSON."""
    errors = _check_fields(title, name, metadata, need_title=True)
    ids = _clean_ids(participant_ids if participant_ids is not None else [], "participantIds")
    if errors:
        raise ValidationFailed("The thread is not valid.", {"fields": errors})
    others = [uid for uid in ids if uid != creator.id]
    unknown = set(others) - _existing_user_ids(others)
    if unknown:
        raise ValidationFailed(
            "Some participants do not exist.", {"fields": {"participantIds": sorted(unknown)}}
        )
    now = utcnow()
    thread = Thread(
        id=new_id(),
        title=title.strip(),
        name=name,
        creator_id=creator.id,
        created_at=now,
        updated_at=now,
        last_activity_at=now,
        meta=metadata or {},
    )
    db.session.add(thread)
    db.session.flush()
    for i, uid in enumerate([creator.id, *others]):
        db.session.add(Participant(thread_id=thread.id, user_id=uid, joined_at=_later(now, i)))
    db.session.commit()
    payload = thread_payload(thread)
    broadcast.thread_event("thread:new", payload, [creator.id, *others])
    return payload


def _later(at: datetime, i: int) -> datetime:
    """Distinct joining times keep the participants' order stable."""
    return at + timedelta(microseconds=i)


def update_thread(
    user: User, thread_id: str, *, title: Any = None, name: Any = None, metadata: Any = None
) -> dict[str, Any]:
    """Rename or re-describe a thread: its creator only."""
    thread = get_thread(user.id, thread_id)
    if thread.creator_id != user.id:
        raise Forbidden("Only the thread's creator can change it.")
    errors = _check_fields(title, name, metadata, need_title=False)
    if errors:
        raise ValidationFailed("The thread is not valid.", {"fields": errors})
    if title is not None:
        thread.title = title.strip()
    if name is not None:
        thread.name = name or None
    if metadata is not None:
        thread.meta = metadata
    thread.updated_at = utcnow()
    db.session.commit()
    payload = thread_payload(thread)
    broadcast.thread_event("thread:updated", payload, [u["id"] for u in payload["participants"]])
    return payload


def add_participants(user: User, thread_id: str, user_ids: Any) -> dict[str, Any]:
    """Add users (creator only): they get `thread:new`, the others `thread:updated`."""
    thread = get_thread(user.id, thread_id)
    if thread.creator_id != user.id:
        raise Forbidden("Only the thread's creator can add participants.")
    ids = _clean_ids(user_ids, "userIds")
    current = set(participant_ids(thread_id))
    new = [uid for uid in ids if uid not in current]
    unknown = set(new) - _existing_user_ids(new)
    if unknown:
        raise ValidationFailed("Some users do not exist.", {"fields": {"userIds": sorted(unknown)}})
    now = utcnow()
    for i, uid in enumerate(new):
        db.session.add(Participant(thread_id=thread_id, user_id=uid, joined_at=_later(now, i)))
    if new:
        thread.updated_at = now
    db.session.commit()
    payload = thread_payload(thread)
    if new:
        broadcast.thread_event("thread:new", payload, new)
        broadcast.thread_event("thread:updated", payload, sorted(current))
    return payload


def remove_participant(user: User, thread_id: str, user_id: str) -> dict[str, Any]:
    """Remove a participant: the creator may remove anyone else, anyone may leave."""
    thread = get_thread(user.id, thread_id)
    if user_id != user.id and thread.creator_id != user.id:
        raise Forbidden("Only the thread's creator can remove other participants.")
    part = db.session.get(Participant, (thread_id, user_id))
    if part is None:
        raise NotFound("That user is not in this thread.")
    db.session.delete(part)
    thread.updated_at = utcnow()
    db.session.commit()
    payload = thread_payload(thread)
    broadcast.thread_event("thread:removed", {"id": thread_id}, [user_id])
    broadcast.thread_event("thread:updated", payload, [u["id"] for u in payload["participants"]])
    return payload


def _encode_cursor(at: datetime, tid: str) -> str:
    raw = f"{at.isoformat()}|{tid}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, tid = raw.split("|", 1)
        return datetime.fromisoformat(at), tid
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The cursor is not valid.", {"fields": {"cursor": "invalid"}}) from None


def list_threads(
    user_id: str, *, archived: bool | None = False, cursor: str | None = None, limit: int = 50
) -> dict[str, Any]:
    """The caller's threads, newest activity first, with `unreadCount` and `lastMessage`.

    Keyset on (last_activity_at, id); four queries whatever the page size: the page,
    participants, last messages (with their authors and receipts), unread counts.
    """
    from .messages import message_payloads

    q = (
        sa.select(Thread, Participant.read_through)
        .join(Participant, Participant.thread_id == Thread.id)
        .where(Participant.user_id == user_id)
    )
    if archived is not None:
        q = q.where(Thread.is_archived.is_(archived))
    if cursor:
        at, tid = _decode_cursor(cursor)
        q = q.where(
            sa.or_(
                Thread.last_activity_at < at,
                sa.and_(Thread.last_activity_at == at, Thread.id < tid),
            )
        )
    rows = db.session.execute(
        q.order_by(Thread.last_activity_at.desc(), Thread.id.desc()).limit(limit + 1)
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    threads = [r[0] for r in rows]
    ids = [t.id for t in threads]
    users = _participants_by_thread(ids)

    # The newest message of each thread: the max id per thread (ids are time-ordered).
    last_ids = (
        list(
            db.session.scalars(
                sa.select(sa.func.max(Message.id))
                .where(Message.thread_id.in_(ids))
                .group_by(Message.thread_id)
            )
        )
        if ids
        else []
    )
    last_msgs = (
        list(db.session.scalars(sa.select(Message).where(Message.id.in_(last_ids))))
        if last_ids
        else []
    )
    last_by_thread = {
        m.thread_id: p for m, p in zip(last_msgs, message_payloads(last_msgs), strict=True)
    }

    unread: dict[str, int] = {}
    if ids:
        # Messages by others newer than the caller's read watermark, per thread.
        part = sa.orm.aliased(Participant)
        unread = dict(
            db.session.execute(
                sa.select(Message.thread_id, sa.func.count())
                .join(
                    part,
                    sa.and_(part.thread_id == Message.thread_id, part.user_id == user_id),
                )
                .where(
                    Message.thread_id.in_(ids),
                    Message.user_id != user_id,
                    Message.deleted_at.is_(None),
                    Message.hidden_at.is_(None),
                    sa.or_(part.read_through.is_(None), Message.id > part.read_through),
                )
                .group_by(Message.thread_id)
            ).all()
        )
    items = []
    for t in threads:
        item = thread_json(t, users[t.id])
        item["lastActivityAt"] = iso(t.last_activity_at)
        item["messageCount"] = t.message_count
        item["unreadCount"] = int(unread.get(t.id, 0))
        item["lastMessage"] = last_by_thread.get(t.id)
        items.append(item)
    next_cursor = _encode_cursor(threads[-1].last_activity_at, threads[-1].id) if more else None
    return {"items": items, "nextCursor": next_cursor}
