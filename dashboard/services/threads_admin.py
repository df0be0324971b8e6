"""Staff views of threads: the filtered, keyset-paginated list, one thread's messages, archiving."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Message, Participant, Thread, User, utcnow
from ..realtime import broadcast
from . import audit
from .errors import NotFound, ValidationFailed
from .threads import thread_payload

STATES = ("active", "archived", "all")
SORTS = ("activity", "created")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
MAX_BULK = 1000
MAX_REASON = 1000


@dataclass(frozen=True)
class ThreadFilters:
    """What the staff thread list is narrowed to (every field optional)."""

    state: str = "active"
    participant: str | None = None  # a username
    creator: str | None = None  # a username
    created_from: datetime | None = None
    created_to: datetime | None = None  # exclusive
    active_from: datetime | None = None
    active_to: datetime | None = None  # exclusive
    q: str | None = None
    sort: str = "activity"


@dataclass
class ThreadRow:
    """One row of the list: the thread and its participants' users, in join order."""

    thread: Thread
    users: list[User]


@dataclass
class ThreadPage:
    """A page of the list and the cursor of the next one (None at the end)."""

    rows: list[ThreadRow]
    next_cursor: str | None


@dataclass
class MessagePage:
    """A page of a thread's messages, oldest first, with their authors, mentions, attachments."""

    messages: list[Message]
    users: dict[str, User]
    mentions: dict[str, list[str]]
    has_earlier: bool
    has_later: bool
    target_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# -- the list ---------------------------------------------------------------------------------


def encode_cursor(at: datetime, thread_id: str) -> str:
    """An opaque cursor for the row (sort time, id) that the next page starts after."""
    raw = f"{at.isoformat(timespec='microseconds')}|{thread_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (sort time, id) of a cursor; a malformed one is a ValidationFailed."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, thread_id = raw.partition("|")
        if not thread_id:
            raise ValueError("no id")
        return datetime.fromisoformat(at), thread_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed(
            "That page link is not valid any more.", {"cursor": "malformed"}
        ) from None


def _user_id_for(username: str) -> str | None:
    return db.session.scalar(
        sa.select(User.id).where(sa.func.lower(User.username) == username.strip().lower())
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_threads(
    filters: ThreadFilters, *, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE
) -> ThreadPage:
    """A page of threads matching `filters`, newest first by the sort key, after `cursor`.

    Keyset pagination on (sort time, id): a deep page costs the same as the first. Participants
    and their users come in two more queries, whatever the page size.
    """
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    key = Thread.created_at if filters.sort == "created" else Thread.last_activity_at
    stmt = sa.select(Thread)
    if filters.state == "active":
        stmt = stmt.where(Thread.is_archived == sa.false())
    elif filters.state == "archived":
        stmt = stmt.where(Thread.is_archived == sa.true())
    for username, column in ((filters.participant, None), (filters.creator, Thread.creator_id)):
        if not username:
            continue
        uid = _user_id_for(username)
        if uid is None:
            return ThreadPage([], None)
        if column is None:
            stmt = stmt.where(
                sa.exists().where(Participant.thread_id == Thread.id, Participant.user_id == uid)
            )
        else:
            stmt = stmt.where(column == uid)
    if filters.created_from:
        stmt = stmt.where(Thread.created_at >= filters.created_from)
    if filters.created_to:
        stmt = stmt.where(Thread.created_at < filters.created_to)
    if filters.active_from:
        stmt = stmt.where(Thread.last_activity_at >= filters.active_from)
    if filters.active_to:
        stmt = stmt.where(Thread.last_activity_at < filters.active_to)
    if filters.q and filters.q.strip():
        # ILIKE on the bare column: PostgreSQL's statistics on `title` then estimate how common
        # the text is, so a common word walks the ordered index and stops after one page
        # (lower(title) LIKE … has no statistics and always sorts the whole table).
        pattern = f"%{_escape_like(filters.q.strip())}%"
        stmt = stmt.where(Thread.title.ilike(pattern, escape="\\"))
    if cursor:
        at, after_id = decode_cursor(cursor)
        stmt = stmt.where(sa.tuple_(key, Thread.id) < sa.tuple_(sa.literal(at, key.type), after_id))
    stmt = (
        stmt.options(selectinload(Thread.participants).selectinload(Participant.user))
        .order_by(key.desc(), Thread.id.desc())
        .limit(limit + 1)
    )
    threads = list(db.session.scalars(stmt))
    more = len(threads) > limit
    threads = threads[:limit]
    rows = [ThreadRow(t, [p.user for p in t.participants]) for t in threads]
    next_cursor = None
    if more and threads:
        last = threads[-1]
        next_cursor = encode_cursor(
            last.created_at if filters.sort == "created" else last.last_activity_at, last.id
        )
    return ThreadPage(rows, next_cursor)


# -- one thread -------------------------------------------------------------------------------


def get_thread(thread_id: str) -> ThreadRow:
    """One thread with its participants' users; NotFound when there is no such thread."""
    thread = db.session.scalar(
        sa.select(Thread)
        .where(Thread.id == thread_id)
        .options(selectinload(Thread.participants).selectinload(Participant.user))
    )
    if thread is None:
        raise NotFound("There is no such thread.", {"threadId": thread_id})
    return ThreadRow(thread, [p.user for p in thread.participants])


def _message_options() -> list[Any]:
    return [
        selectinload(Message.user),
        selectinload(Message.hidden_by),
        selectinload(Message.mentions),
        selectinload(Message.attachments),
    ]


def _page(thread_id: str, messages: list[Message], **kw: Any) -> MessagePage:
    mention_map = {m.id: [x.user_id for x in m.mentions] for m in messages}
    users = {m.user_id: m.user for m in messages}
    for m in messages:
        if m.hidden_by is not None:
            users[m.hidden_by.id] = m.hidden_by
    missing = {uid for ids in mention_map.values() for uid in ids} - users.keys()
    if missing:
        users.update(
            {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(missing)))}
        )
    return MessagePage(messages=messages, users=users, mentions=mention_map, **kw)


def thread_messages(
    thread_id: str,
    *,
    before: str | None = None,
    after: str | None = None,
    around: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> MessagePage:
    """A page of a thread's messages, oldest first, keyset by message id.

    Without a bound: the newest `limit`. `before`/`after`: the ones just older/newer than that
    id. `around`: the page holding that message (half the page before it, the rest after).
    A fixed number of queries whatever `limit` is.
    """
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    base = sa.select(Message).where(Message.thread_id == thread_id).options(*_message_options())
    target_id = None
    if around:
        exists = db.session.scalar(
            sa.select(Message.id).where(Message.id == around, Message.thread_id == thread_id)
        )
        if exists is None:
            raise NotFound("There is no such message in this thread.", {"messageId": around})
        target_id = around
        older_n = limit // 2 + 1  # the target and the ones before it
        older = list(
            db.session.scalars(
                base.where(Message.id <= around).order_by(Message.id.desc()).limit(older_n + 1)
            )
        )
        newer_n = limit - min(len(older), older_n)
        newer = list(
            db.session.scalars(
                base.where(Message.id > around).order_by(Message.id.asc()).limit(newer_n + 1)
            )
        )
        has_earlier = len(older) > older_n
        has_later = len(newer) > newer_n
        msgs = list(reversed(older[:older_n])) + newer[:newer_n]
        return _page(
            thread_id, msgs, has_earlier=has_earlier, has_later=has_later, target_id=target_id
        )
    if after:
        rows = list(
            db.session.scalars(
                base.where(Message.id > after).order_by(Message.id.asc()).limit(limit + 1)
            )
        )
        return _page(thread_id, rows[:limit], has_earlier=True, has_later=len(rows) > limit)
    stmt = base
    if before:
        stmt = stmt.where(Message.id < before)
    rows = list(db.session.scalars(stmt.order_by(Message.id.desc()).limit(limit + 1)))
    msgs = list(reversed(rows[:limit]))
    return _page(thread_id, msgs, has_earlier=len(rows) > limit, has_later=bool(before))


def single_message(message_id: str) -> MessagePage:
    """One message as a page of one (to re-render it after a change); NotFound if missing."""
    msg = db.session.scalar(
        sa.select(Message).where(Message.id == message_id).options(*_message_options())
    )
    if msg is None:
        raise NotFound("There is no such message.", {"messageId": message_id})
    return _page(msg.thread_id, [msg], has_earlier=False, has_later=False)


# -- archiving --------------------------------------------------------------------------------


def _clean_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Give a reason.", {"reason": "required"})
    if len(reason) > MAX_REASON:
        raise ValidationFailed(
            f"The reason is too long (at most {MAX_REASON} characters).", {"reason": "too_long"}
        )
    return reason


def set_archived(
    actor: User, thread_ids: Iterable[str], archived: bool, reason: str | None
) -> list[str]:
    """Archive (or unarchive) threads: one UPDATE, one audit INSERT, one transaction.

    Only threads whose state changes are updated and audited; returns their ids. Each changed
    thread is then announced as `thread:updated` to its participants and the dashboards.
    """
    reason = _clean_reason(reason)
    ids = list(dict.fromkeys(i for i in thread_ids if i))
    if not ids:
        raise ValidationFailed("Select at least one thread.", {"ids": "required"})
    if len(ids) > MAX_BULK:
        raise ValidationFailed(f"Select at most {MAX_BULK} threads at a time.", {"ids": "too_many"})
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
    reason = _clean_reason(reason)
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
        broadcast.thread_event("thread:updated", thread_payload(t, users), [u.id for u in users])
