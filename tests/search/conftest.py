"""Search fixtures: a small corpus of known messages."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

import pytest


@pytest.fixture
def corpus(factory):  # type: ignore[no-untyped-def]
    """Two end users in one thread, a third user alone in another, staff; known messages."""
    alice = factory.user(username="alice")
    bob = factory.user(username="bob")
    carol = factory.user(username="carol")
    staff = factory.user(role="support", username="sam")
    shared = factory.thread(alice, [bob], title="Billing help", name="billing")
    other = factory.thread(carol, [], title="Carol private", name="carols")
    archived = factory.thread(alice, [bob], title="Old stuff", name="old", is_archived=True)
    m = SimpleNamespace()
    m.refund = factory.message(
        shared, alice, "I would like a refund for my order", at=datetime(2026, 11, 20, 10, 0)
    )
    m.refunds_bob = factory.message(
        shared,
        bob,
        "Refunds take five days, @alice",
        at=datetime(2026, 11, 21, 23, 59, 59),
        mentions=(alice,),
        parent_id=m.refund.id,
    )
    m.midnight = factory.message(
        shared, bob, "shipping label attached", at=datetime(2026, 11, 22, 0, 0, 0)
    )
    factory.attachment(m.midnight, bob, type="image", url=None)
    m.link = factory.message(
        shared, alice, "see the invoice link", at=datetime(2026, 11, 22, 12, 0)
    )
    factory.attachment(m.link, alice, type="link")
    m.carol = factory.message(
        other, carol, "secret refund plan for carol", at=datetime(2026, 11, 21, 9, 0)
    )
    m.hidden = factory.message(
        shared,
        bob,
        "abusive refund rant",
        at=datetime(2026, 11, 21, 11, 0),
        hidden_at=datetime(2026, 11, 21, 12, 0),
    )
    m.deleted = factory.message(
        shared,
        alice,
        "deleted refund note",
        at=datetime(2026, 11, 21, 13, 0),
        deleted_at=datetime(2026, 11, 21, 14, 0),
    )
    m.old = factory.message(archived, bob, "archived refund talk", at=datetime(2026, 11, 1, 8, 0))
    m.xss = factory.message(
        shared,
        alice,
        "<script>alert('x')</script> refund <b>now</b> & later",
        at=datetime(2026, 11, 23, 8, 0),
    )
    return SimpleNamespace(
        alice=alice,
        bob=bob,
        carol=carol,
        staff=staff,
        shared=shared,
        other=other,
        archived=archived,
        m=m,
    )
