"""Reports of messages and the append-only audit log of staff actions."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .base import new_id, utcnow

if TYPE_CHECKING:
    from .messages import Message
    from .users import User

REPORT_STATES = ("open", "dismissed", "actioned")
WATCHED_KINDS = ("word", "phrase", "regex")
WATCHED_ACTIONS = ("flag", "block")


class Report(Model):
    """A user's report of a message, waiting for (or resolved by) a moderator."""

    __tablename__ = "reports"
    __table_args__ = (
        sa.CheckConstraint("state IN ('open', 'dismissed', 'actioned')", name="state"),
        sa.CheckConstraint("length(reason) BETWEEN 1 AND 1000", name="reason_length"),
        sa.Index("ix_reports_state_created", "state", "created_at", "id"),
        sa.Index("ix_reports_message_id", "message_id"),
    )

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True, default=new_id)
    message_id: Mapped[str] = mapped_column(sa.ForeignKey("messages.id", ondelete="CASCADE"))
    # NULL: filed by the system (a watched word), as the audit log stores system actors.
    reporter_id: Mapped[str | None] = mapped_column(sa.ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(sa.String(1000))
    state: Mapped[str] = mapped_column(sa.String(16), default="open", server_default="open")
    resolver_id: Mapped[str | None] = mapped_column(sa.ForeignKey("users.id"))
    resolution_note: Mapped[str | None] = mapped_column(sa.String(1000))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    # A system report's source: {"source": "watched_words", "rules": [...], "matches": [...]}.
    meta: Mapped[dict[str, Any]] = mapped_column(
        "metadata", sa.JSON, default=dict, server_default="{}"
    )

    message: Mapped[Message] = relationship(lazy="raise_on_sql")
    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id], lazy="raise_on_sql")
    resolver: Mapped[User | None] = relationship(foreign_keys=[resolver_id], lazy="raise_on_sql")


class AuditLog(Model):
    """One staff action on one target. Rows are only ever inserted."""

    __tablename__ = "audit_log"
    __table_args__ = (
        sa.Index("ix_audit_log_created", "created_at", "id"),
        sa.Index("ix_audit_log_actor", "actor_id", "created_at"),
        sa.Index("ix_audit_log_action", "action", "created_at"),
        sa.Index("ix_audit_log_target", "target_type", "target_id"),
    )

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True, default=new_id)
    actor_id: Mapped[str | None] = mapped_column(sa.ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(sa.String(64))
    target_type: Mapped[str] = mapped_column(sa.String(32))
    target_id: Mapped[str] = mapped_column(sa.String(64))
    reason: Mapped[str | None] = mapped_column(sa.String(1000))
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)

    actor: Mapped[User | None] = relationship(lazy="raise_on_sql")


class WatchedWord(Model):
    """A moderator's watched word, phrase or regular expression, and what a match does."""

    __tablename__ = "watched_words"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('word', 'phrase', 'regex')", name="kind"),
        sa.CheckConstraint("action IN ('flag', 'block')", name="action"),
        sa.CheckConstraint("length(pattern) BETWEEN 1 AND 200", name="pattern_length"),
        # One rule per normalised text and kind: adding it twice is a clear error, not a copy.
        sa.Index("uq_watched_words_kind_normalized", "kind", "normalized", unique=True),
        sa.Index("ix_watched_words_created", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(sa.String(8))
    pattern: Mapped[str] = mapped_column(sa.String(200))
    # NFKC + casefold of the pattern (words and phrases are matched on this form).
    normalized: Mapped[str] = mapped_column(sa.String(800))
    action: Mapped[str] = mapped_column(sa.String(8))
    created_by_id: Mapped[str | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)

    created_by: Mapped[User | None] = relationship(lazy="raise_on_sql")
