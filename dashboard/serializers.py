"""The seed's JSON shapes (camelCase, ISO 8601 UTC times with Z), in one place.

The API, the socket events and the JSON export all serialize through these functions.
`message_payloads` loads what a batch of messages needs (authors, mentions, attachments,
watermarks) in a fixed number of queries. Imports models and the database only: services,
the API and realtime import this, never the other way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from markupsafe import Markup, escape

from .extensions import db
from .models import Attachment, Mention, Message, Participant, Thread, User

MESSAGE_STATUSES = ("sending", "sent", "delivered", "read", "failed")


def iso(dt: datetime | None) -> str | None:
    """`2026-11-26T14:30:18.123Z` for a naive-UTC datetime; None stays None."""
    if dt is None:
        return None
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def user_json(user: User) -> dict[str, Any]:
    """User: every field of SPEC §2 (never the password hash)."""
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "imageUrl": user.image_url,
        "createdAt": iso(user.created_at),
        "updatedAt": iso(user.updated_at),
        "lastLoginAt": iso(user.last_login_at),
        "isActive": user.is_active,
        "role": user.role,
    }


def user_summary(user: User) -> dict[str, Any]:
    """The public part of a user: what other users may see (no email, no role)."""
    return {
        "id": user.id,
        "username": user.username,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "imageUrl": user.image_url,
    }


def attachment_json(att: Attachment) -> dict[str, Any]:
    """Attachment: id, type, url, mimeType, size, metadata."""
    return {
        "id": att.id,
        "type": att.type,
        "url": att.url,
        "mimeType": att.mime_type,
        "size": att.size,
        "metadata": dict(att.meta or {}),
    }


def thread_json(
    thread: Thread, participants: Iterable[User], *, full_users: bool = False
) -> dict[str, Any]:
    """Thread: its fields with participants as User objects (summaries unless `full_users`)."""
    to_json = user_json if full_users else user_summary
    return {
        "id": thread.id,
        "name": thread.name,
        "title": thread.title,
        "createdAt": iso(thread.created_at),
        "updatedAt": iso(thread.updated_at),
        "lastMessageAt": iso(thread.last_message_at),
        "creatorId": thread.creator_id,
        "participants": [to_json(u) for u in participants],
        "isArchived": thread.is_archived,
        "metadata": dict(thread.meta or {}),
    }


def message_json(
    message: Message,
    *,
    author: User,
    mentions: Iterable[str] = (),
    attachments: Iterable[Attachment] = (),
    status: str = "sent",
    reveal_removed: bool = False,
) -> dict[str, Any]:
    """Message: SPEC §2 fields. A removed message shows empty content unless `reveal_removed`.

    End users get `content: ""` and `metadata.removed` for a hidden or deleted message; staff
    views pass reveal_removed=True to see what was said (still with `metadata.removed`).
    """
    removed = message.removed_by
    meta = dict(message.meta or {})
    content = message.content
    atts = [attachment_json(a) for a in attachments]
    mention_ids = list(mentions)
    if removed:
        meta["removed"] = removed
        if not reveal_removed:
            content, atts, mention_ids = "", [], []
    return {
        "id": message.id,
        "clientId": message.client_id,
        "content": content,
        "threadId": message.thread_id,
        "userId": message.user_id,
        "parentId": message.parent_id,
        "createdAt": iso(message.created_at),
        "updatedAt": iso(message.updated_at),
        "status": status,
        "mentions": mention_ids,
        "attachments": atts,
        "metadata": meta,
        "user": user_summary(author),
    }


def presence_json(user_id: str, online: bool, last_seen: datetime | None) -> dict[str, Any]:
    """PresenceInfo: userId, status (online/offline), lastSeen."""
    return {
        "userId": user_id,
        "status": "online" if online else "offline",
        "lastSeen": iso(last_seen),
    }


def typing_json(
    user_id: str, thread_id: str, timestamp: datetime, is_typing: bool
) -> dict[str, Any]:
    """TypingIndicator as sent on the `typing` event: userId, threadId, timestamp, isTyping."""
    return {
        "userId": user_id,
        "threadId": thread_id,
        "timestamp": iso(timestamp),
        "isTyping": is_typing,
    }


class _Segmented(Protocol):
    """A search snippet (services/search/snippets.py): text in (piece, highlighted) pieces."""

    def segments(self) -> Iterable[tuple[str, bool]]: ...


def snippet_html(snippet: _Segmented) -> Markup:
    """A search snippet as HTML: its text escaped, its highlighted words in <mark> tags.

    The Search page shows it (the `highlight` filter) and the API sends it as `snippet`.
    """
    html = "".join(
        f"<mark>{escape(piece)}</mark>" if marked else str(escape(piece))
        for piece, marked in snippet.segments()
    )
    # Safe: every piece of the text went through escape(); the only markup is our <mark>s.
    return Markup(html)  # noqa: S704


# -- messages in batches: status and relations loaded once per batch ---------------------


def status_of(message: Message, parts: Sequence[tuple[str, str | None, str | None]]) -> str:
    """`sent`, `delivered` or `read` from the other participants' (user, delivered, read) marks."""
    others = [p for p in parts if p[0] != message.user_id]
    if not others:
        return "sent"
    mid = message.id
    if all(r is not None and r >= mid for _, _, r in others):
        return "read"
    if all(max(d or "", r or "") >= mid for _, d, r in others):
        return "delivered"
    return "sent"


def message_payloads(
    messages: Sequence[Message], *, reveal_removed: bool = False
) -> list[dict[str, Any]]:
    """Message JSON for many messages in four queries at most, whatever their number.

    Authors, mentions, attachments and the participants' watermarks (for `status`) are each
    loaded once for the whole batch.
    """
    if not messages:
        return []
    ids = [m.id for m in messages]
    author_ids = {m.user_id for m in messages}
    thread_ids = {m.thread_id for m in messages}
    authors = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(author_ids)))}
    mentions: dict[str, list[str]] = defaultdict(list)
    for mid, uid in db.session.execute(
        sa.select(Mention.message_id, Mention.user_id).where(Mention.message_id.in_(ids))
    ):
        mentions[mid].append(uid)
    atts: dict[str, list[Attachment]] = defaultdict(list)
    for att in db.session.scalars(
        sa.select(Attachment).where(Attachment.message_id.in_(ids)).order_by(Attachment.id)
    ):
        atts[att.message_id or ""].append(att)  # never None: selected by message id
    parts: dict[str, list[tuple[str, str | None, str | None]]] = defaultdict(list)
    for tid, uid, d, r in db.session.execute(
        sa.select(
            Participant.thread_id,
            Participant.user_id,
            Participant.delivered_through,
            Participant.read_through,
        ).where(Participant.thread_id.in_(thread_ids))
    ):
        parts[tid].append((uid, d, r))
    return [
        message_json(
            m,
            author=authors[m.user_id],
            mentions=mentions.get(m.id, ()),
            attachments=atts.get(m.id, ()),
            status=status_of(m, parts[m.thread_id]),
            reveal_removed=reveal_removed,
        )
        for m in messages
    ]


def message_payload(message: Message, *, reveal_removed: bool = False) -> dict[str, Any]:
    """The Message JSON of one message, `status` computed from the watermarks.

    The moderation service calls it to broadcast a hidden or restored message.
    """
    return message_payloads([message], reveal_removed=reveal_removed)[0]
