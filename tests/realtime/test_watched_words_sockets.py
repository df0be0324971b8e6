"""Watched words over real Socket.IO clients: a blocked send acks `blocked`, nobody gets it."""

from __future__ import annotations

import time

import sqlalchemy as sa

from dashboard.extensions import db
from dashboard.models import Message, User
from dashboard.services import watched_words

from .clients import ChatClient, wait_for


def test_blocked_send_acks_blocked_and_reaches_no_one(app, factory, live_server):
    alice, bob = factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    mod = factory.user(role="moderator")
    with app.app_context():
        watched_words.add_rule(db.session.get(User, mod.id), "regex", r"free\s+v-?bucks", "block")
    a = ChatClient(live_server.url, alice).connect()
    b = ChatClient(live_server.url, bob).connect()
    try:
        res = a.call(
            "message:send", {"clientId": "x1", "threadId": thread.id, "content": "FREE vbucks here"}
        )
        assert res["ok"] is False
        assert res["error"]["code"] == "blocked"
        assert res["error"]["details"] == {"category": "pattern"}
        assert "v-?bucks" not in res["error"]["message"]  # no regex internals
        ok = a.call("message:send", {"clientId": "x2", "threadId": thread.id, "content": "hi"})
        assert ok["ok"]
        got = wait_for(lambda: b.received("message:new"))
        time.sleep(0.2)
        assert [m["content"] for m in b.received("message:new")] == ["hi"]
        assert got[0]["clientId"] == "x2"
        edit = a.call("message:edit", {"messageId": ok["message"]["id"], "content": "free v-bucks"})
        assert edit["ok"] is False and edit["error"]["code"] == "blocked"
        with app.app_context():
            assert db.session.scalars(sa.select(Message.content)).all() == ["hi"]
    finally:
        a.disconnect()
        b.disconnect()
