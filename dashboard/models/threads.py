"""Threads and their participants (with the delivered/read watermarks)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .base import new_id, utcnow

if TYPE_CHECKING:
    from .users import User


class Thread(Model):
    """A conversation between participants."""

    __tablename__ = "threads"
    __table_args__ = (
        sa.CheckConstraint("length(title) BETWEEN 1 AND 200", name="title_length"),
        sa.CheckConstraint("message_count >= 0", name="message_count"),
        # Keyset pages of the dashboard list and the chat's thread list, newest activity first.
        sa.Index("ix_threads_archived_activity", "is_archived", "last_activity_at", "id"),
        sa.Index("ix_threads_activity", "last_activity_at", "id"),
        sa.Index("ix_threads_created", "created_at", "id"),
        sa.Index("ix_threads_creator_id", "creator_id"),
        sa.Index("ix_threads_name", "name"),
    )

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True, default=new_id)
    name: Mapped[str | None] = mapped_column(sa.String(100))
    title: Mapped[str] = mapped_column(sa.String(200))
    creator_id: Mapped[str] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, onupdate=utcnow)
    last_message_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    # last_message_at, or created_at for an empty thread: the list's sort key, never null.
    last_activity_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    message_count: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    is_archived: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    archived_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", sa.JSON, default=dict)

    creator: Mapped[User] = relationship(foreign_keys=[creator_id], lazy="raise_on_sql")
    participants: Mapped[list[Participant]] = relationship(
        back_populates="thread",
        cascade="all, delete-orphan",
        lazy="raise_on_sql",
        order_by="Participant.joined_at",
    )

    def __repr__(self) -> str:
        return f"<Thread {self.id} {self.title!r}>"


class Participant(Model):
    """A user's membership of a thread, with how far they have received and read it."""

    __tablename__ = "participants"
    __table_args__ = (sa.Index("ix_participants_user_thread", "user_id", "thread_id"),)

    thread_id: Mapped[str] = mapped_column(
        sa.ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    joined_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    # Message ids are time-ordered, so a watermark is the id of the newest message covered.
    delivered_through: Mapped[str | None] = mapped_column(sa.String(64))
    read_through: Mapped[str | None] = mapped_column(sa.String(64))

    thread: Mapped[Thread] = relationship(back_populates="participants", lazy="raise_on_sql")
    user: Mapped[User] = relationship(lazy="raise_on_sql")
