"""Messages, their mentions and attachments."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .base import new_id, utcnow

if TYPE_CHECKING:
    from .threads import Thread
    from .users import User

ATTACHMENT_TYPES = ("image", "file", "link")


class Message(Model):
    """One chat message. Hidden and deleted messages keep their row."""

    __tablename__ = "messages"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "client_id", name="uq_messages_user_client"),
        # Thread pages and sync walk (thread_id, id); ids are time-ordered.
        sa.Index("ix_messages_thread_id", "thread_id", "id"),
        sa.Index("ix_messages_user_id", "user_id", "id"),
        sa.Index("ix_messages_parent_id", "parent_id"),
        sa.Index("ix_messages_created_at", "created_at"),
        # sync: what changed after a point in time.
        sa.Index("ix_messages_updated_at", "updated_at"),
    )

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True, default=new_id)
    client_id: Mapped[str | None] = mapped_column(sa.String(64))
    content: Mapped[str] = mapped_column(sa.Text, default="")
    thread_id: Mapped[str] = mapped_column(sa.ForeignKey("threads.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("users.id"))
    parent_id: Mapped[str | None] = mapped_column(sa.ForeignKey("messages.id"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, onupdate=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    hidden_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    hidden_by_id: Mapped[str | None] = mapped_column(sa.ForeignKey("users.id"))
    hidden_reason: Mapped[str | None] = mapped_column(sa.String(500))
    # Blanked by the erasure of its author's personal data (content and metadata are empty).
    erased_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", sa.JSON, default=dict)

    thread: Mapped[Thread] = relationship(lazy="raise_on_sql")
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="raise_on_sql")
    hidden_by: Mapped[User | None] = relationship(foreign_keys=[hidden_by_id], lazy="raise_on_sql")
    mentions: Mapped[list[Mention]] = relationship(
        cascade="all, delete-orphan", lazy="raise_on_sql"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="message", lazy="raise_on_sql", order_by="Attachment.id"
    )

    @property
    def removed_by(self) -> str | None:
        """'erased' when its author was erased, 'moderator' when hidden, 'author' when deleted."""
        if self.erased_at is not None:
            return "erased"
        if self.hidden_at is not None:
            return "moderator"
        if self.deleted_at is not None:
            return "author"
        return None

    def __repr__(self) -> str:
        return f"<Message {self.id} in {self.thread_id}>"


class Mention(Model):
    """A user mentioned by a message (queryable for `mentions:` search)."""

    __tablename__ = "mentions"
    __table_args__ = (sa.Index("ix_mentions_user_id", "user_id", "message_id"),)

    message_id: Mapped[str] = mapped_column(
        sa.ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)


class Attachment(Model):
    """A link or an uploaded file; an upload has no message until it is sent with one."""

    __tablename__ = "attachments"
    __table_args__ = (
        sa.CheckConstraint("type IN ('image', 'file', 'link')", name="type"),
        sa.CheckConstraint("size IS NULL OR size >= 0", name="size"),
        sa.Index("ix_attachments_message_id", "message_id"),
        # has:image and the like: one type's messages, newest first (ids are time-ordered).
        sa.Index("ix_attachments_type_message_id", "type", "message_id"),
        sa.Index("ix_attachments_uploader_id", "uploader_id"),
        sa.Index("uq_attachments_storage_name", "storage_name", unique=True),
    )

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True, default=new_id)
    message_id: Mapped[str | None] = mapped_column(sa.ForeignKey("messages.id", ondelete="CASCADE"))
    uploader_id: Mapped[str] = mapped_column(sa.ForeignKey("users.id"))
    type: Mapped[str] = mapped_column(sa.String(8))
    url: Mapped[str | None] = mapped_column(sa.String(2048))
    mime_type: Mapped[str | None] = mapped_column(sa.String(255))
    size: Mapped[int | None] = mapped_column(sa.BigInteger)
    original_name: Mapped[str | None] = mapped_column(sa.String(255))
    storage_name: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", sa.JSON, default=dict)

    message: Mapped[Message | None] = relationship(
        back_populates="attachments", lazy="raise_on_sql"
    )
