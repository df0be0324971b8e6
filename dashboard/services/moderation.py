"""Moderation of messages: hide and restore, each audited and announced as `message:updated`."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from .. import events
from ..extensions import db
from ..models import Message, User, utcnow
from ..serializers import message_payload
from . import audit
from .errors import NotFound
from .reasons import clean_reason

MAX_REASON = 500  # messages.hidden_reason is a String(500)


def _load(message_id: str) -> Message:
    msg = db.session.scalar(
        sa.select(Message)
        .where(Message.id == message_id)
        .options(
            selectinload(Message.user),
            selectinload(Message.hidden_by),
            selectinload(Message.mentions),
            selectinload(Message.attachments),
        )
    )
    if msg is None:
        raise NotFound("There is no such message.", {"messageId": message_id})
    return msg


def stage_hide(actor: User, message_id: str, reason: str | None) -> Message | None:
    """Hide a message in the current transaction, with its audit row; the caller commits and
    then calls `announce`. None when it was hidden already (nothing changes, nothing audited).
    """
    reason = clean_reason(reason, max_length=MAX_REASON)
    msg = _load(message_id)
    if msg.hidden_at is not None:
        return None
    msg.hidden_at = utcnow()
    msg.hidden_by_id = actor.id
    msg.hidden_reason = reason
    audit.record(actor, "message.hide", "message", msg.id, reason=reason)
    return msg


def announce(message_id: str) -> Message:
    """Send the message's current public form to the thread's open chats (after the commit)."""
    msg = _load(message_id)
    events.message_updated(msg.thread_id, message_payload(msg))
    return msg


def hide_message(actor: User, message_id: str, reason: str | None) -> Message:
    """Hide a message from end users, with the reason; audited as `message.hide`.

    Hiding a message that is already hidden changes nothing and writes no audit row.
    """
    if stage_hide(actor, message_id, reason) is None:
        return _load(message_id)
    db.session.commit()
    return announce(message_id)


def restore_message(actor: User, message_id: str, reason: str | None) -> Message:
    """Show a hidden message again; audited as `message.restore` with the reason.

    Restoring a message that is not hidden changes nothing and writes no audit row.
    """
    reason = clean_reason(reason, max_length=MAX_REASON)
    msg = _load(message_id)
    if msg.hidden_at is None:
        return msg
    msg.hidden_at = None
    msg.hidden_by_id = None
    msg.hidden_reason = None
    audit.record(actor, "message.restore", "message", msg.id, reason=reason)
    db.session.commit()
    return announce(message_id)
