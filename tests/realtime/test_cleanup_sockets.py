"""A spam clean-up reaches open chats live (real Socket.IO clients), and so does its undo."""

from __future__ import annotations

from dashboard.extensions import db
from dashboard.models import User
from dashboard.services import cleanup

from .clients import ChatClient, wait_for


def test_cleanup_and_undo_update_the_participants_open_chats(app, factory, live_server):
    spammer, bob, carol = factory.user(), factory.user(), factory.user()
    mod = factory.user(role="moderator")
    t1 = factory.thread(spammer, [bob])
    t2 = factory.thread(carol, [spammer])
    m1 = factory.message(t1, spammer, "buy now")
    m2 = factory.message(t2, spammer, "cheap pills")
    keep = factory.message(t1, bob, "bob says hi")
    b = ChatClient(live_server.url, bob).connect()
    c = ChatClient(live_server.url, carol).connect()
    try:
        with app.app_context():
            actor = db.session.get(User, mod.id)
            done = cleanup.clean_up(actor, spammer.id, window="all", reason="spam")
        got_b = wait_for(lambda: b.received("message:updated"))
        got_c = wait_for(lambda: c.received("message:updated"))
        assert [(m["id"], m["content"], m["metadata"]["removed"]) for m in got_b] == [
            (m1.id, "", "moderator")
        ]
        assert [m["id"] for m in got_c] == [m2.id]  # each thread's own messages only
        with app.app_context():
            cleanup.undo(db.session.get(User, mod.id), done.audit_id)
        back = wait_for(lambda: b.received("message:updated")[1:])
        assert back[0]["id"] == m1.id and back[0]["content"] == "buy now"
        assert "removed" not in back[0]["metadata"]
        assert keep.id not in {m["id"] for m in b.received("message:updated")}
    finally:
        b.disconnect()
        c.disconnect()
