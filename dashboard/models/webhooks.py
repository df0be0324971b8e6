"""Webhook deliveries already handled, so a redelivered event changes nothing a second time."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .base import utcnow


class WebhookEvent(Model):
    """One Svix message id that was verified and applied (or deliberately ignored)."""

    __tablename__ = "webhook_events"
    __table_args__ = (sa.Index("ix_webhook_events_received", "received_at"),)

    svix_id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    event_type: Mapped[str] = mapped_column(sa.String(64))
    received_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
