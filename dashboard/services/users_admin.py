"""Staff work on accounts: the users list, a user's page, deactivation and role changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import ROLES, Message, Participant, Thread, User, utcnow
from ..realtime import broadcast
from . import audit, presence, staff_rules
from .errors import BadRequest, NotFound, ValidationFailed

PAGE_SIZE = 50
REASON_MAX = 1000


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


@dataclass
class Page:
    """One keyset page of rows, and the cursor of the next one (None at the end)."""

    items: list = field(default_factory=list)
    next_cursor: str | None = None


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def _split_cursor(cursor: str | None) -> tuple[str, str] | None:
    if not cursor:
        return None
    key, sep, last_id = cursor.rpartition("|")
    if not sep or not last_id:
        raise BadRequest("That page link is not valid.")
    return key, last_id


def list_users(filters: UserFilters, cursor: str | None = None, limit: int | None = None) -> Page:
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
        pattern = _like(text)
        q = q.where(
            sa.or_(
                *(
                    sa.func.lower(col).like(pattern, escape="\\")
                    for col in (User.username, User.email, User.first_name, User.last_name)
                ),
                sa.func.lower(
                    sa.func.coalesce(User.first_name, "")
                    + " "
                    + sa.func.coalesce(User.last_name, "")
                ).like(pattern, escape="\\"),
            )
        )
    after = _split_cursor(cursor)
    if after:
        q = q.where(sa.tuple_(name_key, User.id) > sa.tuple_(after[0], after[1]))
    rows = list(db.session.scalars(q.order_by(name_key, User.id).limit(limit + 1)))
    nxt = None
    if len(rows) > limit:
        rows = rows[:limit]
        nxt = f"{rows[-1].username.lower()}|{rows[-1].id}"
    return Page(rows, nxt)


def recently_seen(cursor: str | None = None, limit: int | None = None) -> Page:
    """Users by when they were last seen, newest first, one keyset page."""
    limit = limit or PAGE_SIZE
    q = sa.select(User).where(User.last_seen_at.is_not(None))
    after = _split_cursor(cursor)
    if after:
        try:
            seen = datetime.fromisoformat(after[0])
        except ValueError:
            raise BadRequest("That page link is not valid.") from None
        q = q.where(sa.tuple_(User.last_seen_at, User.id) < sa.tuple_(seen, after[1]))
    rows = list(
        db.session.scalars(q.order_by(User.last_seen_at.desc(), User.id.desc()).limit(limit + 1))
    )
    nxt = None
    if len(rows) > limit:
        rows = rows[:limit]
        nxt = f"{rows[-1].last_seen_at.isoformat()}|{rows[-1].id}"
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


def _clean_reason(reason: str | None, *, required: bool) -> str | None:
    reason = (reason or "").strip()
    if required and not reason:
        raise ValidationFailed("Give a reason.", {"fields": {"reason": "required"}})
    if len(reason) > REASON_MAX:
        raise ValidationFailed(
            "The reason is too long.", {"fields": {"reason": f"at most {REASON_MAX} characters"}}
        )
    return reason or None


def _target(user_id: str) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def set_active(actor: User, user_id: str, active: bool, reason: str | None) -> User:
    """Deactivate (ending every session and socket) or reactivate a user; audited."""
    action = "reactivate" if active else "deactivate"
    reason = _clean_reason(reason, required=True)
    user = _target(user_id)
    staff_rules.check(actor, action, user)
    if user.is_active == active:
        return user  # nothing to change: no audit row for a no-op
    user.is_active = active
    user.session_version += 1
    user.updated_at = utcnow()
    # The actor's role is kept: who may undo this depends on it (staff_rules).
    audit.record(
        actor, f"user.{action}", "user", user.id, reason=reason, details={"actorRole": actor.role}
    )
    db.session.commit()
    if not active:
        broadcast.end_user_sessions(user.id)
    return user


def change_role(actor: User, user_id: str, role: str, reason: str | None) -> User:
    """Give a user another role (admins only); their sessions end so the new role applies."""
    staff_rules.check(actor, "role")
    if role not in ROLES:
        raise ValidationFailed("Unknown role.", {"fields": {"role": f"one of {', '.join(ROLES)}"}})
    user = _target(user_id)
    staff_rules.check(actor, "role", user, role=role)
    reason = _clean_reason(reason, required=True)
    if user.role == role:
        return user
    old = user.role
    user.role = role
    user.session_version += 1
    user.updated_at = utcnow()
    audit.record(
        actor, "user.role", "user", user.id, reason=reason, details={"from": old, "to": role}
    )
    db.session.commit()
    broadcast.end_user_sessions(user.id)
    return user
