"""Hiding and restoring messages: the row, the audit log, the reason."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from dashboard.extensions import db
from dashboard.models import AuditLog, Message, User
from dashboard.services import moderation
from dashboard.services.errors import NotFound, ValidationFailed


def _audit(app):
    return db.session.scalars(sa.select(AuditLog).order_by(AuditLog.id)).all()


def test_hide_then_restore(app, factory):
    mod = factory.user(role="moderator")
    author = factory.user()
    t = factory.thread(author, [mod])
    m = factory.message(t, author, "buy cheap pills")
    with app.app_context():
        actor = db.session.get(User, mod.id)
        hidden = moderation.hide_message(actor, m.id, " spam ")
        assert hidden.hidden_at is not None
        assert (hidden.hidden_by_id, hidden.hidden_reason) == (mod.id, "spam")
        # Hiding again changes nothing and writes no second row.
        moderation.hide_message(actor, m.id, "spam twice")
        restored = moderation.restore_message(actor, m.id, "false positive")
        assert restored.hidden_at is None and restored.hidden_reason is None
        rows = _audit(app)
        assert [(r.action, r.target_type, r.target_id, r.reason, r.actor_id) for r in rows] == [
            ("message.hide", "message", m.id, "spam", mod.id),
            ("message.restore", "message", m.id, "false positive", mod.id),
        ]
        assert db.session.get(Message, m.id).content == "buy cheap pills"


@pytest.mark.parametrize("reason", ["", "  ", None, "y" * 501])
def test_hide_needs_a_reason(app, factory, reason):
    mod = factory.user(role="moderator")
    t = factory.thread(mod)
    m = factory.message(t, mod)
    with app.app_context():
        actor = db.session.get(User, mod.id)
        with pytest.raises(ValidationFailed):
            moderation.hide_message(actor, m.id, reason)
        db.session.rollback()
        assert db.session.get(Message, m.id).hidden_at is None
        assert _audit(app) == []


def test_missing_message(app, factory):
    mod = factory.user(role="moderator")
    with app.app_context():
        actor = db.session.get(User, mod.id)
        with pytest.raises(NotFound):
            moderation.hide_message(actor, "no-such-id", "spam")
        with pytest.raises(NotFound):
            moderation.restore_message(actor, "no-such-id", "spam")
