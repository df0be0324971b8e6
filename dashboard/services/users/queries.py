"""Reading accounts: the staff users list, the people finder, presence lists, a user's page.

End users find people to talk to with `find_users`; staff browse with `list_users` and filters.
Lists are keyset-paginated through `services.pagination`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import ROLES, Message, Participant, Thread, User
from .. import presence
from ..errors import BadRequest, NotFound
from ..pagination import LIKE_ESCAPE, Page, decode_cursor, encode_cursor, like_pattern

PAGE_SIZE = 50


@dataclass
class UserFilters:
    """The users list's filters, as they come from the query string."""

    role: str = ""
    active: str = ""  # "", "yes", "no"
    online: str = ""  # "", "yes", "no"
    q: str = ""

    def as_args(self) -> dict[str, str]:
        """The non-empty filters, for building URLs."""
        return {k: v for k, v in vars(self).items() if v}


def list_users(
    filters: UserFilters, cursor: str | None = None, limit: int | None = None
) -> Page[User]:
    """Users matching `filters`, by username (case-insensitive), one keyset page."""
    limit = limit or PAGE_SIZE
    if filters.role and filters.role not in ROLES:
        raise BadRequest("Unknown role.")
    name_key = sa.func.lower(User.username)
    q = sa.select(User)
    if filters.role:
        q = q.where(User.role == filters.role)
    if filters.active in ("yes", "no"):
        q = q.where(User.is_active.is_(filters.active == "yes"))
    if filters.online in ("yes", "no"):
        online = sorted(presence.online_user_ids())
        if filters.online == "yes":
            q = q.where(User.id.in_(online)) if online else q.where(sa.false())
        elif online:
            q = q.where(User.id.not_in(online))
    text = filters.q.strip()
    if text:
        pattern = like_pattern(text.lower())
        q = q.where(
            sa.or_(
                *(
                    sa.func.lower(col).like(pattern, escape=LIKE_ESCAPE)
                    for col in (User.username, User.email, User.first_name, User.last_name)
                ),
                sa.func.lower(
                    sa.func.coalesce(User.first_name, "")
                    + " "
                    + sa.func.coalesce(User.last_name, "")
                ).like(pattern, escape=LIKE_ESCAPE),
            )
        )
    if cursor:
        key, last_id = decode_cursor(cursor, str, str)
        q = q.where(sa.tuple_(name_key, User.id) > sa.tuple_(key, last_id))
    rows = list(db.session.scalars(q.order_by(name_key, User.id).limit(limit + 1)))
    nxt = None
    if len(rows) > limit:
        rows = rows[:limit]
        nxt = encode_cursor(rows[-1].username.lower(), rows[-1].id)
    return Page(rows, nxt)


def find_users(q: str, *, limit: int = 20) -> list[User]:
    """Active users whose username or name starts with `q` (to start a thread or mention)."""
    q = q.strip().lower()
    stmt = sa.select(User).where(User.is_active)
    if q:
        pattern = like_pattern(q, prefix=True)
        stmt = stmt.where(
            sa.or_(
                sa.func.lower(User.username).like(pattern, escape=LIKE_ESCAPE),
                sa.func.lower(User.first_name).like(pattern, escape=LIKE_ESCAPE),
                sa.func.lower(User.last_name).like(pattern, escape=LIKE_ESCAPE),
            )
        )
    return list(db.session.scalars(stmt.order_by(sa.func.lower(User.username)).limit(limit)))


def recently_seen(cursor: str | None = None, limit: int | None = None) -> Page[User]:
    """Users by when they were last seen, newest first, one keyset page."""
    limit = limit or PAGE_SIZE
    q = sa.select(User).where(User.last_seen_at.is_not(None))
    if cursor:
        seen, last_id = decode_cursor(cursor, datetime, str)
        q = q.where(sa.tuple_(User.last_seen_at, User.id) < sa.tuple_(seen, last_id))
    rows = list(
        db.session.scalars(q.order_by(User.last_seen_at.desc(), User.id.desc()).limit(limit + 1))
    )
    nxt = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        nxt = encode_cursor(last.last_seen_at or last.created_at, last.id)  # never None here
    return Page(rows, nxt)


def online_users(limit: int = 500) -> tuple[list[User], int]:
    """Up to `limit` of the users online now, by username, and how many are online in all."""
    ids = sorted(presence.online_user_ids())
    if not ids:
        return [], 0
    users = list(
        db.session.scalars(
            sa.select(User)
            .where(User.id.in_(ids))
            .order_by(sa.func.lower(User.username))
            .limit(limit)
        )
    )
    return users, len(ids)


@dataclass
class UserDetail:
    """What the user page shows."""

    user: User
    threads: list[Thread]
    thread_count: int
    messages: list[Message]
    online: bool


def user_detail(user_id: str, *, threads: int = 20, messages: int = 20) -> UserDetail:
    """A user with their most active threads and their latest messages."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    member = sa.select(Participant.thread_id).where(Participant.user_id == user_id)
    thread_rows = list(
        db.session.scalars(
            sa.select(Thread)
            .where(Thread.id.in_(member))
            .order_by(Thread.last_activity_at.desc(), Thread.id.desc())
            .limit(threads)
        )
    )
    thread_count = db.session.scalar(
        sa.select(sa.func.count()).select_from(Participant).where(Participant.user_id == user_id)
    )
    recent = list(
        db.session.scalars(
            sa.select(Message)
            .where(Message.user_id == user_id)
            .options(selectinload(Message.thread))
            .order_by(Message.id.desc())
            .limit(messages)
        )
    )
    return UserDetail(user, thread_rows, thread_count or 0, recent, presence.is_online(user_id))
