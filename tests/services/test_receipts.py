"""Receipts: watermarks only move forward; statuses follow every other participant."""

from __future__ import annotations

from dashboard.extensions import db
from dashboard.models import Message
from dashboard.serializers import message_payload
from dashboard.services import receipts


def _status(app, mid):
    with app.app_context():
        return message_payload(db.session.get(Message, mid))["status"]


def test_status_needs_every_other_participant(app, factory):
    alice, bob, carol = factory.user(), factory.user(), factory.user()
    thread = factory.thread(alice, [bob, carol])
    m1 = factory.message(thread, alice, "one")
    m2 = factory.message(thread, alice, "two")
    with app.app_context():
        receipts.mark_read(bob.id, thread.id, m2.id)
    assert _status(app, m1.id) == "sent"  # carol has nothing yet
    with app.app_context():
        receipts.mark_delivered(carol.id, thread.id, m1.id)
    assert (_status(app, m1.id), _status(app, m2.id)) == ("delivered", "sent")
    with app.app_context():
        receipts.mark_read(carol.id, thread.id, m2.id)
        receipts.mark_delivered(carol.id, thread.id, m1.id)  # behind: changes nothing
    assert (_status(app, m1.id), _status(app, m2.id)) == ("read", "read")


def test_own_messages_do_not_count_for_the_reader(app, factory):
    alice, bob = factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    mine = factory.message(thread, bob, "bob's")
    with app.app_context():
        receipts.mark_read(bob.id, thread.id, mine.id)
    assert _status(app, mine.id) == "sent"  # alice has not read it
