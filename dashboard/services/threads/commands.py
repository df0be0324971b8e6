"""Changing threads: create, rename, membership, archiving. Each commits, then announces.

End users change their own threads (creator rules in each command); staff archive any thread,
one or many at a time, each change audited in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from ... import events
from ...extensions import db
from ...models import Participant, Thread, User, new_id, utcnow
from .. import audit
from ..errors import Forbidden, NotFound, ValidationFailed
from ..reasons import clean_reason
from .queries import get_thread, participant_ids, thread_payload

NAME_MAX = 100
METADATA_MAX_BYTES = 8 * 1024
MAX_BULK = 1000
MAX_REASON = 1000


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
    events.thread_event("thread:new", payload, [creator.id, *others])
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
    events.thread_event("thread:updated", payload, [u["id"] for u in payload["participants"]])
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
        events.thread_event("thread:new", payload, new)
        events.thread_event("thread:updated", payload, sorted(current))
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
    events.thread_event("thread:removed", {"id": thread_id}, [user_id])
    events.thread_event("thread:updated", payload, [u["id"] for u in payload["participants"]])
    return payload


# -- archiving (staff) --------------------------------------------------------------------------


def set_archived(
    actor: User, thread_ids: Iterable[str], archived: bool, reason: str | None
) -> list[str]:
    """Archive (or unarchive) threads: one UPDATE, one audit INSERT, one transaction.

    Only threads whose state changes are updated and audited; returns their ids. Each changed
    thread is then announced as `thread:updated` to its participants and the dashboards.
    """
    reason = clean_reason(reason, max_length=MAX_REASON)
    ids = list(dict.fromkeys(i for i in thread_ids if i))
    if not ids:
        raise ValidationFailed("Select at least one thread.", {"fields": {"ids": "required"}})
    if len(ids) > MAX_BULK:
        raise ValidationFailed(
            f"Select at most {MAX_BULK} threads at a time.", {"fields": {"ids": "too_many"}}
        )
    now = utcnow()
    changed = list(
        db.session.scalars(
            sa.update(Thread)
            .where(
                Thread.id.in_(ids), Thread.is_archived == (sa.false() if archived else sa.true())
            )
            .values(is_archived=archived, archived_at=now if archived else None, updated_at=now)
            .returning(Thread.id),
        )
    )
    action = "thread.archive" if archived else "thread.unarchive"
    audit.record_many(actor, action, "thread", changed, reason=reason)
    db.session.commit()
    _announce(changed)
    return changed


def archive_thread(actor: User, thread_id: str, reason: str | None, archived: bool = True) -> bool:
    """Archive (or unarchive) one thread; NotFound if missing. True when its state changed."""
    reason = clean_reason(reason, max_length=MAX_REASON)
    if db.session.get(Thread, thread_id) is None:
        raise NotFound("There is no such thread.", {"threadId": thread_id})
    return bool(set_archived(actor, [thread_id], archived, reason))


def _announce(thread_ids: list[str]) -> None:
    """`thread:updated` for each thread, to its participants (and staff, via broadcast)."""
    if not thread_ids:
        return
    threads = db.session.scalars(
        sa.select(Thread)
        .where(Thread.id.in_(thread_ids))
        .options(selectinload(Thread.participants).selectinload(Participant.user))
    )
    for t in threads:
        users = [p.user for p in t.participants]
        events.thread_event("thread:updated", thread_payload(t, users), [u.id for u in users])
