"""Messages: send (validated, idempotent on clientId), edit, delete, pages, sync and reports.

The send path is one transaction with few statements: check membership, insert the message
(the unique (user_id, client_id) constraint makes a replay a no-op), bump the thread's
counters, commit; only then is `message:new` broadcast, so no one sees an unsaved message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from .. import events
from ..extensions import db
from ..models import Attachment, Mention, Message, Participant, Thread, User, new_id, utcnow
from ..serializers import iso, message_json, message_payload, message_payloads
from .errors import BadRequest, Conflict, Forbidden, NotFound, ServiceError, ValidationFailed
from .pagination import BadCursor, decode_cursor, encode_cursor
from .watched_words import Blocked, announce_flag_report, screen, stage_flag_report

MENTION_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9][A-Za-z0-9_.-]{0,63})")
CLIENT_ID_MAX = 64
METADATA_MAX = 8 * 1024
URL_MAX = 2048
SYNC_BATCH = 200


class Author(Protocol):
    """What the send path needs of its caller: a User, or a socket's cached summary of one."""

    id: str
    username: str
    first_name: str | None
    last_name: str | None
    image_url: str | None


class ThreadArchived(ServiceError):
    """Archived threads are read-only."""

    code, status = "thread_archived", 409


def _archived() -> ThreadArchived:
    return ThreadArchived("This thread is archived: it is read-only.")


# --- validation -----------------------------------------------------------------------------


def _check_content(content: Any, *, has_attachments: bool) -> str:
    limit = current_app.config["MAX_MESSAGE_CHARS"]
    if content is None:
        content = ""
    if not isinstance(content, str):
        raise ValidationFailed("content must be a string.", {"fields": {"content": "a string"}})
    if "\x00" in content:
        raise ValidationFailed("content may not contain NUL.", {"fields": {"content": "NUL"}})
    if len(content) > limit:
        raise ValidationFailed(
            f"A message is at most {limit} characters.",
            {"fields": {"content": f"at most {limit} characters"}, "limit": limit},
        )
    if not content.strip() and not has_attachments:
        raise ValidationFailed(
            "A message needs some text or an attachment.", {"fields": {"content": "required"}}
        )
    return content


def _check_metadata(metadata: Any) -> dict[str, Any]:
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise ValidationFailed("metadata must be an object.", {"fields": {"metadata": "object"}})
    if len(repr(metadata)) > METADATA_MAX:
        raise ValidationFailed(
            "metadata is too large.", {"fields": {"metadata": f"at most {METADATA_MAX} bytes"}}
        )
    return metadata


def _check_link(url: Any) -> str:
    ok = isinstance(url, str) and len(url) <= URL_MAX
    if ok:
        try:
            parts = urlsplit(url)
        except ValueError:
            ok = False
        else:
            ok = parts.scheme in ("http", "https") and bool(parts.netloc)
    if not ok:
        raise ValidationFailed(
            "Links must be http or https URLs.", {"fields": {"attachments": "http/https URLs"}}
        )
    return url


def _check_attachments(attachments: Any) -> tuple[list[str], list[str]]:
    """(link urls, upload ids) from the request's attachments list."""
    if attachments is None:
        return [], []
    limit = current_app.config["MAX_ATTACHMENTS"]
    if not isinstance(attachments, list):
        raise ValidationFailed("attachments must be a list.", {"fields": {"attachments": "a list"}})
    if len(attachments) > limit:
        raise ValidationFailed(
            f"At most {limit} attachments per message.",
            {"fields": {"attachments": f"at most {limit}"}, "limit": limit},
        )
    links, uploads = [], []
    for att in attachments:
        if not isinstance(att, dict):
            raise ValidationFailed(
                "Each attachment is an object.", {"fields": {"attachments": "objects"}}
            )
        if isinstance(att.get("id"), str) and att["id"]:
            uploads.append(att["id"])
        elif att.get("type") == "link":
            links.append(_check_link(att.get("url")))
        else:
            raise ValidationFailed(
                'Each attachment is {"type": "link", "url": …} or {"id": <upload id>}.',
                {"fields": {"attachments": "link or upload id"}},
            )
    return links, uploads


def _check_client_id(client_id: Any) -> str | None:
    if client_id is None:
        return None
    if (
        not isinstance(client_id, str)
        or not 1 <= len(client_id) <= CLIENT_ID_MAX
        or "\x00" in client_id
    ):
        raise ValidationFailed(
            f"clientId must be a string of 1 to {CLIENT_ID_MAX} characters.",
            {"fields": {"clientId": f"1 to {CLIENT_ID_MAX} characters"}},
        )
    return client_id


def _resolve_mentions(thread_id: str, content: str) -> list[str]:
    """User ids of the thread's participants named as `@username` in `content`."""
    names = {m.group(1).rstrip(".").lower() for m in MENTION_RE.finditer(content)}
    names.discard("")
    if not names:
        return []
    return list(
        db.session.scalars(
            sa.select(User.id)
            .join(Participant, Participant.user_id == User.id)
            .where(Participant.thread_id == thread_id, sa.func.lower(User.username).in_(names))
        )
    )


# --- send, edit, delete ---------------------------------------------------------------------


def _existing(user_id: str, client_id: str) -> Message | None:
    return db.session.scalar(
        sa.select(Message).where(Message.user_id == user_id, Message.client_id == client_id)
    )


# The send path's statements, built once (Core, bound parameters: cached compilation).
_threads = Thread.__table__
_participants = Participant.__table__
_BUMP = (
    sa.update(_threads)
    .where(
        _threads.c.id == sa.bindparam("tid"),
        _threads.c.is_archived.is_(False),
        sa.exists().where(
            _participants.c.thread_id == sa.bindparam("tid"),
            _participants.c.user_id == sa.bindparam("uid"),
        ),
    )
    .values(
        message_count=_threads.c.message_count + 1,
        last_message_at=sa.bindparam("now"),
        last_activity_at=sa.bindparam("now"),
    )
    .returning(_threads.c.id)
)
_INSERT = sa.insert(Message.__table__)
_MESSAGE_COLUMNS = (
    "id", "client_id", "content", "thread_id", "user_id", "parent_id", "created_at",
    "updated_at", "metadata",
)  # fmt: skip
_bump_cte = _BUMP.cte("bump")
_BUMP_AND_INSERT = (
    sa.insert(Message.__table__)
    .from_select(
        _MESSAGE_COLUMNS,
        sa.select(
            *[sa.bindparam(f"m_{c}", type_=Message.__table__.c[c].type) for c in _MESSAGE_COLUMNS]
        ).select_from(_bump_cte),
    )
    .add_cte(_bump_cte)
    .returning(Message.__table__.c.id)
)


def send_message(
    author: Author,
    thread_id: str,
    *,
    client_id: Any = None,
    content: Any = "",
    parent_id: Any = None,
    attachments: Any = None,
    metadata: Any = None,
) -> tuple[dict[str, Any], bool]:
    """Store a message and broadcast it; (payload, created). A replayed clientId: created False.

    Raises NotFound (not a participant), ThreadArchived, ValidationFailed.
    """
    client_id = _check_client_id(client_id)
    links, upload_ids = _check_attachments(attachments)
    content = _check_content(content, has_attachments=bool(links or upload_ids))
    meta = _check_metadata(metadata)
    if parent_id is not None and not isinstance(parent_id, str):
        raise ValidationFailed("parentId must be a message id.", {"fields": {"parentId": "id"}})
    try:
        flagged = screen(content) if content else []
    except Blocked:
        # A retried send of a message stored before the rule was added is still that message.
        if client_id and (replay := _existing(author.id, client_id)) is not None:
            return message_payload(replay), False
        raise

    if parent_id is not None:
        # Membership first: what a reply may point at tells a non-member nothing (404 always).
        _check_member(author.id, thread_id)
        parent_thread = db.session.scalar(
            sa.select(Message.thread_id).where(Message.id == parent_id)
        )
        if parent_thread != thread_id:
            raise ValidationFailed(
                "The message replied to is not in this thread.",
                {"fields": {"parentId": "not in this thread"}},
            )
    uploads: list[Attachment] = []
    if upload_ids:
        uploads = list(
            db.session.scalars(
                sa.select(Attachment).where(
                    Attachment.id.in_(upload_ids),
                    Attachment.uploader_id == author.id,
                    Attachment.message_id.is_(None),
                    Attachment.storage_name.is_not(None),
                )
            )
        )
        if len(uploads) != len(set(upload_ids)):
            if client_id and (replay := _existing(author.id, client_id)) is not None:
                return message_payload(replay), False
            raise ValidationFailed(
                "Some attachments are not uploads of yours waiting to be sent.",
                {"fields": {"attachments": "unknown or already used upload"}},
            )
    mention_ids = _resolve_mentions(thread_id, content) if "@" in content else []

    now = utcnow()
    values = {
        "id": new_id(),
        "client_id": client_id,
        "content": content,
        "thread_id": thread_id,
        "user_id": author.id,
        "parent_id": parent_id,
        "created_at": now,
        "updated_at": now,
        "metadata": meta,
    }
    # The message is written with Core statements (no unit of work: the send path is hot); the
    # ORM object is only serialized. The counters' UPDATE doubles as the membership and archived
    # check, and its row lock orders concurrent sends to one thread. On PostgreSQL the UPDATE and
    # the INSERT are one statement (a data-modifying CTE): one round trip, then the commit.
    msg = Message(**{("meta" if k == "metadata" else k): v for k, v in values.items()})
    bump = {"tid": thread_id, "uid": author.id, "now": now}
    conn = db.session.connection()
    try:
        if conn.dialect.name == "postgresql":
            stored = conn.execute(
                _BUMP_AND_INSERT, {**bump, **{f"m_{k}": v for k, v in values.items()}}
            ).first()
        else:
            stored = conn.execute(_BUMP, bump).first()
            if stored is not None:
                conn.execute(_INSERT, values)
    except IntegrityError:
        # Same (user, clientId) as a stored message, perhaps sent by a racing request.
        db.session.rollback()
        replay = _existing(author.id, client_id) if client_id else None
        if replay is None:
            raise
        return message_payload(replay), False
    if stored is None:
        db.session.rollback()
        archived = db.session.scalar(
            sa.select(Thread.is_archived)
            .join(Participant, Participant.thread_id == Thread.id)
            .where(Thread.id == thread_id, Participant.user_id == author.id)
        )
        if archived is None:
            raise NotFound("There is no such thread.")
        replay = _existing(author.id, client_id) if client_id else None
        if replay is not None:
            return message_payload(replay), False
        raise _archived()
    if mention_ids:
        conn.execute(
            sa.insert(Mention.__table__),
            [{"message_id": msg.id, "user_id": uid} for uid in mention_ids],
        )
    report = stage_flag_report(msg.id, flagged)
    links_made = [
        Attachment(
            id=new_id(),
            message_id=msg.id,
            uploader_id=author.id,
            type="link",
            url=url,
            created_at=now,
            meta={},
        )
        for url in links
    ]
    db.session.add_all(links_made)
    for att in uploads:
        att.message_id = msg.id
    # Built before the commit, which expires the objects (reading them again costs a query).
    # A brand-new id is newer than every watermark, so the status is `sent`.
    payload = message_json(
        msg,
        author=author,  # type: ignore[arg-type]
        mentions=mention_ids,
        attachments=sorted([*links_made, *uploads], key=lambda a: a.id),
        status="sent",
    )
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        replay = _existing(author.id, client_id) if client_id else None
        if replay is None:
            raise
        return message_payload(replay), False
    events.message_new(thread_id, payload)
    announce_flag_report(report, thread_id)
    return payload, True


def _own_message(author: Author, message_id: str) -> tuple[Message, bool]:
    """The author's message and its thread's archived flag; NotFound for anyone else's."""
    row = db.session.execute(
        sa.select(Message, Thread.is_archived)
        .join(Thread, Thread.id == Message.thread_id)
        .join(
            Participant,
            sa.and_(Participant.thread_id == Thread.id, Participant.user_id == author.id),
        )
        .where(Message.id == message_id)
    ).first()
    if row is None:
        raise NotFound("There is no such message.")
    msg, archived = row
    if msg.user_id != author.id:
        raise Forbidden("You can only change your own messages.")
    if msg.removed_by is not None:
        raise Conflict("This message was removed.")
    if archived:
        raise _archived()
    return msg, archived


def edit_message(author: Author, message_id: Any, content: Any) -> dict[str, Any]:
    """Change the text of one's own message; `message:updated` goes to the thread."""
    if not isinstance(message_id, str):
        raise ValidationFailed("messageId is required.", {"fields": {"messageId": "required"}})
    msg, _ = _own_message(author, message_id)
    has_atts = db.session.scalar(
        sa.select(sa.func.count()).select_from(Attachment).where(Attachment.message_id == msg.id)
    )
    content = _check_content(content, has_attachments=bool(has_atts))
    flagged = screen(content, editing=True) if content else []
    msg.content = content
    now = utcnow()
    msg.edited_at = now
    msg.updated_at = now
    meta = dict(msg.meta or {})
    meta["editedAt"] = iso(now)
    msg.meta = meta
    db.session.execute(sa.delete(Mention).where(Mention.message_id == msg.id))
    for uid in _resolve_mentions(msg.thread_id, content) if "@" in content else []:
        db.session.add(Mention(message_id=msg.id, user_id=uid))
    report = stage_flag_report(msg.id, flagged)
    db.session.commit()
    payload = message_payload(msg)
    events.message_updated(msg.thread_id, payload)
    announce_flag_report(report, msg.thread_id)
    return payload


def delete_message(author: Author, message_id: Any) -> dict[str, Any]:
    """Delete one's own message: the row stays with empty content (`metadata.removed: author`)."""
    if not isinstance(message_id, str):
        raise ValidationFailed("messageId is required.", {"fields": {"messageId": "required"}})
    msg, _ = _own_message(author, message_id)
    now = utcnow()
    msg.deleted_at = now
    msg.updated_at = now
    msg.content = ""
    db.session.execute(sa.delete(Mention).where(Mention.message_id == msg.id))
    db.session.commit()
    payload = message_payload(msg)
    events.message_updated(msg.thread_id, payload)
    return payload


# --- reading --------------------------------------------------------------------------------


def _check_member(user_id: str, thread_id: str) -> None:
    found = db.session.scalar(
        sa.select(Participant.user_id).where(
            Participant.thread_id == thread_id, Participant.user_id == user_id
        )
    )
    if found is None:
        raise NotFound("There is no such thread.")


def list_messages(
    user_id: str,
    thread_id: str,
    *,
    before: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    """A page of a thread, oldest first: the newest, or just before/after a message id."""
    _check_member(user_id, thread_id)
    if before and after:
        raise BadRequest("Give before or after, not both.")
    base = sa.select(Message).where(Message.thread_id == thread_id)
    if after:
        rows = list(
            db.session.scalars(
                base.where(Message.id > after).order_by(Message.id.asc()).limit(limit + 1)
            )
        )
        more_after = len(rows) > limit
        rows = rows[:limit]
        more_before = _exists(thread_id, Message.id <= after)
    else:
        q = base.where(Message.id < before) if before else base
        rows = list(db.session.scalars(q.order_by(Message.id.desc()).limit(limit + 1)))
        more_before = len(rows) > limit
        rows = list(reversed(rows[:limit]))
        more_after = _exists(thread_id, Message.id >= before) if before else False
    return {
        "items": message_payloads(rows),
        "hasMoreBefore": more_before,
        "hasMoreAfter": more_after,
    }


def _exists(thread_id: str, cond: Any) -> bool:
    return bool(
        db.session.scalar(sa.select(sa.exists().where(Message.thread_id == thread_id, cond)))
    )


def _sync_cursor(at: datetime, mid: str) -> str:
    # "c." tells a cursor from an ISO time in `since`.
    return "c." + encode_cursor(at, mid)


def _parse_since(since: Any) -> tuple[datetime, str]:
    """A sync position: (updated_at, id) from a cursor, or (time, '') from an ISO time."""
    if not isinstance(since, str) or not since:
        raise ValidationFailed(
            "since must be a cursor or an ISO time.", {"fields": {"since": "required"}}
        )
    if since.startswith("c."):
        try:
            at, mid = decode_cursor(since[2:], datetime, str, field_name="since")
            return at, mid
        except BadCursor:
            raise ValidationFailed(
                "since must be a cursor or an ISO time.", {"fields": {"since": "invalid"}}
            ) from None
    try:
        at = datetime.fromisoformat(since.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(
            "since must be a cursor or an ISO time.", {"fields": {"since": "invalid"}}
        ) from None
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at, ""


def sync(user_id: str, since: Any, *, limit: int = SYNC_BATCH) -> dict[str, Any]:
    """What was created or changed in the caller's threads after `since`, oldest first.

    `messages` were created after the position, `updates` existed before it and changed
    since. While `hasMore`, call again with `cursor`.
    """
    at, mid = _parse_since(since)
    mine = sa.select(Participant.thread_id).where(Participant.user_id == user_id)
    rows = list(
        db.session.scalars(
            sa.select(Message)
            .where(
                Message.thread_id.in_(mine),
                sa.or_(
                    Message.updated_at > at,
                    sa.and_(Message.updated_at == at, Message.id > mid),
                ),
            )
            .order_by(Message.updated_at.asc(), Message.id.asc())
            .limit(limit + 1)
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    payloads = message_payloads(rows)
    created: list[dict[str, Any]] = []
    updated: list[dict[str, Any]] = []
    for m, p in zip(rows, payloads, strict=True):
        (created if m.created_at > at or (m.created_at == at and m.id > mid) else updated).append(p)
    cursor = _sync_cursor(rows[-1].updated_at, rows[-1].id) if rows else _sync_cursor(at, mid)
    return {"messages": created, "updates": updated, "hasMore": more, "cursor": cursor}


def messages_by_ids(ids: Iterable[str]) -> list[Message]:
    """Messages by id, in id order."""
    ids = list(ids)
    if not ids:
        return []
    return list(
        db.session.scalars(sa.select(Message).where(Message.id.in_(ids)).order_by(Message.id))
    )
