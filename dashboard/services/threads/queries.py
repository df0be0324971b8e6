"""Reading threads: membership, the Thread JSON, the caller's list and the staff list.

End users see only their own threads (`get_thread(user_id, …)` raises NotFound for any other,
so existence does not leak); staff browse every thread through `browse_threads` with filters.
Both lists are keyset-paginated through `services.pagination`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import Message, Participant, Thread, User
from ...serializers import iso, message_payloads, thread_json
from ..errors import NotFound
from ..pagination import LIKE_ESCAPE, decode_cursor, encode_cursor, like_pattern

STATES = ("active", "archived", "all")
SORTS = ("activity", "created")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100


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


# -- one user's threads -----------------------------------------------------------------------


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


def list_threads(
    user_id: str, *, archived: bool | None = False, cursor: str | None = None, limit: int = 50
) -> dict[str, Any]:
    """The caller's threads, newest activity first, with `unreadCount` and `lastMessage`.

    Keyset on (last_activity_at, id); four queries whatever the page size: the page,
    participants, last messages (with their authors and receipts), unread counts.
    """
    q = (
        sa.select(Thread, Participant.read_through)
        .join(Participant, Participant.thread_id == Thread.id)
        .where(Participant.user_id == user_id)
    )
    if archived is not None:
        q = q.where(Thread.is_archived.is_(archived))
    if cursor:
        at, tid = decode_cursor(cursor, datetime, str)
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
    next_cursor = encode_cursor(threads[-1].last_activity_at, threads[-1].id) if more else None
    return {"items": items, "nextCursor": next_cursor}


# -- the staff list ----------------------------------------------------------------------------


def _user_id_for(username: str) -> str | None:
    return db.session.scalar(
        sa.select(User.id).where(sa.func.lower(User.username) == username.strip().lower())
    )


def browse_threads(
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
        pattern = like_pattern(filters.q.strip())
        stmt = stmt.where(Thread.title.ilike(pattern, escape=LIKE_ESCAPE))
    if cursor:
        at, after_id = decode_cursor(cursor, datetime, str)
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


# -- one thread --------------------------------------------------------------------------------


def thread_row(thread_id: str) -> ThreadRow:
    """Any thread (staff) with its participants' users; NotFound when there is no such thread."""
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
