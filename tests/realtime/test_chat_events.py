"""Every /chat event through the Flask-SocketIO test client, refusals included."""

from __future__ import annotations

import sqlalchemy as sa

from dashboard.extensions import db, socketio
from dashboard.models import Message, Participant, User
from dashboard.services import presence, typing

from .conftest import events

NS = "/chat"


def ack(client, event, payload=None):
    return client.emit(event, payload, namespace=NS, callback=True)


def test_connect_refused_without_session_or_valid_token(app, socket_client):
    anon = socketio.test_client(app, namespace=NS)
    assert not anon.is_connected(NS)
    bad = socketio.test_client(app, namespace=NS, auth={"token": "forged"})
    assert not bad.is_connected(NS)


def test_connect_with_session_cookie(app, client, login_as):
    alice = login_as("user")
    sock = socketio.test_client(app, namespace=NS, flask_test_client=client)
    assert sock.is_connected(NS)
    assert presence.is_online(alice.id)
    sock.disconnect(namespace=NS)
    assert not presence.is_online(alice.id)
    with app.app_context():
        assert db.session.get(User, alice.id).last_seen_at is not None


def test_send_acks_after_commit_and_broadcasts(app, factory, socket_client):
    alice, bob = factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    a, b = socket_client(alice), socket_client(bob)
    a.get_received(NS), b.get_received(NS)
    res = ack(a, "message:send", {"clientId": "c1", "threadId": thread.id, "content": "hi"})
    assert res["ok"] is True
    msg = res["message"]
    with app.app_context():
        assert db.session.get(Message, msg["id"]).content == "hi"
    assert [m["id"] for m in events(b, "message:new")] == [msg["id"]]
    assert [m["clientId"] for m in events(a, "message:new")] == ["c1"]


def test_replayed_client_id_gives_the_same_message(app, factory, socket_client):
    alice = factory.user()
    thread = factory.thread(alice, [factory.user()])
    a = socket_client(alice)
    first = ack(a, "message:send", {"clientId": "same", "threadId": thread.id, "content": "1"})
    again = ack(a, "message:send", {"clientId": "same", "threadId": thread.id, "content": "2"})
    assert again["ok"] and again["message"]["id"] == first["message"]["id"]
    assert again["message"]["content"] == "1"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 1


def test_send_refusals(app, factory, socket_client):
    alice, eve = factory.user(), factory.user()
    thread = factory.thread(alice, [factory.user()])
    archived = factory.thread(alice, [], is_archived=True)
    e, a = socket_client(eve), socket_client(alice)
    res = ack(e, "message:send", {"clientId": "x", "threadId": thread.id, "content": "hi"})
    assert res == {"ok": False, "error": res["error"]} and res["error"]["code"] == "not_found"
    res = ack(a, "message:send", {"clientId": "y", "threadId": archived.id, "content": "hi"})
    assert res["error"]["code"] == "thread_archived"
    res = ack(a, "message:send", {"clientId": "z", "threadId": thread.id, "content": "x" * 10_001})
    assert res["error"]["code"] == "validation_failed"
    assert ack(a, "message:send", {"content": "no thread"})["error"]["code"] == "validation_failed"
    assert ack(a, "message:send", "not an object")["error"]["code"] == "validation_failed"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0


def test_edit_and_delete(app, factory, socket_client):
    alice, bob = factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    a, b = socket_client(alice), socket_client(bob)
    msg = ack(a, "message:send", {"clientId": "e", "threadId": thread.id, "content": "tpyo"})
    mid = msg["message"]["id"]
    b.get_received(NS)
    assert ack(b, "message:edit", {"messageId": mid, "content": "mine"})["error"]["code"] == (
        "forbidden"
    )
    res = ack(a, "message:edit", {"messageId": mid, "content": "typo"})
    assert res["ok"] and res["message"]["content"] == "typo"
    assert [m["content"] for m in events(b, "message:updated")] == ["typo"]
    res = ack(a, "message:delete", {"messageId": mid})
    assert res["ok"] and res["message"]["metadata"]["removed"] == "author"
    assert events(b, "message:updated")[0]["content"] == ""
    assert ack(a, "message:delete", {"messageId": "nope"})["error"]["code"] == "not_found"
    assert ack(a, "message:edit", {"content": "x"})["error"]["code"] == "validation_failed"


def test_delivered_then_read_pushes_status_to_sender(app, factory, socket_client):
    alice, bob, carol = factory.user(), factory.user(), factory.user()
    thread = factory.thread(alice, [bob, carol])
    a, b, c = socket_client(alice), socket_client(bob), socket_client(carol)
    mid = ack(a, "message:send", {"clientId": "s", "threadId": thread.id, "content": "x"})[
        "message"
    ]["id"]
    a.get_received(NS)
    assert ack(b, "messages:delivered", {"threadId": thread.id, "messageId": mid}) == {"ok": True}
    assert events(a, "message:status") == []  # carol has not received it yet
    ack(c, "messages:delivered", {"threadId": thread.id, "messageId": mid})
    assert events(a, "message:status") == [
        {"threadId": thread.id, "messageIds": [mid], "status": "delivered"}
    ]
    ack(b, "messages:read", {"threadId": thread.id, "messageId": mid})
    ack(c, "messages:read", {"threadId": thread.id, "messageId": mid})
    assert events(a, "message:status") == [
        {"threadId": thread.id, "messageIds": [mid], "status": "read"}
    ]
    # Watermarks never move back.
    ack(b, "messages:delivered", {"threadId": thread.id, "messageId": mid})
    with app.app_context():
        part = db.session.get(Participant, (thread.id, bob.id))
        assert part.read_through == mid
    res = ack(b, "messages:read", {"threadId": thread.id, "messageId": "nope"})
    assert res["error"]["code"] == "not_found"
    eve = socket_client(factory.user())
    res = ack(eve, "messages:read", {"threadId": thread.id, "messageId": mid})
    assert res["error"]["code"] == "not_found"


def test_typing_start_stop_and_expiry(app, factory, socket_client, monkeypatch):
    alice, bob = factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    a, b = socket_client(alice), socket_client(bob)
    b.get_received(NS)
    assert ack(a, "typing:start", {"threadId": thread.id}) == {"ok": True}
    got = events(b, "typing")
    assert [(t["userId"], t["isTyping"]) for t in got] == [(alice.id, True)]
    assert ack(a, "typing:stop", {"threadId": thread.id}) == {"ok": True}
    assert [t["isTyping"] for t in events(b, "typing")] == [False]
    ack(a, "typing:start", {"threadId": thread.id})
    b.get_received(NS)
    import time

    expired = typing.expire(time.monotonic() + typing.EXPIRY_SECONDS + 0.1)
    assert expired == [(alice.id, thread.id)]
    assert [t["isTyping"] for t in events(b, "typing")] == [False]
    eve = socket_client(factory.user())
    assert ack(eve, "typing:start", {"threadId": thread.id})["error"]["code"] == "not_found"


def test_presence_events_and_query(app, factory, socket_client):
    alice, bob = factory.user(), factory.user()
    factory.thread(alice, [bob])
    b = socket_client(bob)
    b.get_received(NS)
    a = socket_client(alice)
    assert events(b, "presence") == [{"userId": alice.id, "status": "online", "lastSeen": None}]
    res = ack(b, "presence:query", {"userIds": [alice.id, bob.id, "ghost"]})
    assert res["ok"] and [p["status"] for p in res["presence"]] == ["online", "online"]
    a.disconnect(namespace=NS)
    off = events(b, "presence")
    assert off[0]["status"] == "offline" and off[0]["lastSeen"]
    assert ack(b, "presence:query", {"userIds": "x"})["error"]["code"] == "validation_failed"


def test_sync_returns_created_and_changed_after_since(app, factory, socket_client):
    from datetime import timedelta

    from dashboard.models import utcnow

    alice, bob = factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    other = factory.thread(factory.user(), [])
    t0 = utcnow() - timedelta(minutes=10)
    old = factory.message(thread, alice, "old", at=t0)
    factory.message(other, alice if False else factory.user(), "not mine")
    since = (t0 + timedelta(minutes=1)).isoformat() + "Z"
    a = socket_client(alice)
    news = [
        ack(a, "message:send", {"clientId": f"n{i}", "threadId": thread.id, "content": str(i)})
        for i in range(5)
    ]
    ack(a, "message:edit", {"messageId": old.id, "content": "old, edited"})
    b = socket_client(bob)
    got, updates, cursor = [], [], since
    while True:
        res = ack(b, "sync", {"since": cursor, "limit": 2})
        assert res["ok"]
        got += res["messages"]
        updates += res["updates"]
        cursor = res["cursor"]
        if not res["hasMore"]:
            break
    assert [m["id"] for m in got] == [n["message"]["id"] for n in news]
    assert [u["content"] for u in updates] == ["old, edited"]
    again = ack(b, "sync", {"since": cursor})
    assert again["messages"] == [] and again["updates"] == [] and not again["hasMore"]
    assert ack(b, "sync", {"since": "yesterday"})["error"]["code"] == "validation_failed"
    assert ack(b, "sync", {})["error"]["code"] == "validation_failed"
    # A sync from a time after everything: no rows, and its cursor works as the next `since`.
    quiet = ack(b, "sync", {"since": utcnow().isoformat() + "Z"})
    assert quiet["ok"] and quiet["messages"] == []
    assert ack(b, "sync", {"since": quiet["cursor"]})["ok"]


def test_new_participant_joins_the_room_and_removed_one_leaves(app, factory, socket_client):
    from tests.api.tokens import bearer

    alice, bob, carol = factory.user(), factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    c = socket_client(carol)
    c.get_received(NS)
    http = app.test_client()
    resp = http.post(
        f"/api/v1/threads/{thread.id}/participants",
        json={"userIds": [carol.id]},
        headers=bearer(alice),
    )
    assert resp.status_code == 200
    assert [t["id"] for t in events(c, "thread:new")] == [thread.id]
    a = socket_client(alice)
    ack(a, "message:send", {"clientId": "w", "threadId": thread.id, "content": "welcome"})
    assert [m["content"] for m in events(c, "message:new")] == ["welcome"]
    http.delete(f"/api/v1/threads/{thread.id}/participants/{carol.id}", headers=bearer(alice))
    assert [t["id"] for t in events(c, "thread:removed")] == [thread.id]
    ack(a, "message:send", {"clientId": "w2", "threadId": thread.id, "content": "bye"})
    assert events(c, "message:new") == []


def test_end_user_sessions_disconnects_the_users_sockets(app, factory, socket_client):
    from dashboard.realtime import broadcast

    alice, bob = factory.user(), factory.user()
    a1, a2, b = socket_client(alice), socket_client(alice), socket_client(bob)
    with app.app_context():
        broadcast.end_user_sessions(alice.id)
    assert not a1.is_connected(NS) and not a2.is_connected(NS)
    assert b.is_connected(NS)
    assert not presence.is_online(alice.id)


def test_live_is_staff_only_with_snapshot_reports_and_threads(app, factory, socket_client):
    from tests.api.tokens import bearer

    user, other, staff = factory.user(), factory.user(), factory.user(role="support")
    thread = factory.thread(user, [other])
    msg = factory.message(thread, other, "rude")
    refused = socket_client(user, namespace="/live")
    assert not refused.is_connected("/live")
    socket_client(user)  # online on /chat
    live = socket_client(staff, namespace="/live")
    assert live.is_connected("/live")
    snap = events(live, "presence:snapshot", "/live")
    # staff with the dashboard open count as online too (issue 13, finding 10)
    assert {p["userId"] for p in snap[0]["items"]} == {user.id, staff.id}
    socket_client(other)
    assert [p["userId"] for p in events(live, "presence", "/live")] == [other.id]
    http = app.test_client()
    http.post(f"/api/v1/messages/{msg.id}/reports", json={"reason": "rude"}, headers=bearer(user))
    assert [r["messageId"] for r in events(live, "report:new", "/live")] == [msg.id]
    http.patch(f"/api/v1/threads/{thread.id}", json={"title": "renamed"}, headers=bearer(user))
    assert [t["id"] for t in events(live, "thread:updated", "/live")] == [thread.id]


def test_nul_characters_are_refused(app, factory, socket_client):
    alice = factory.user()
    thread = factory.thread(alice, [])
    a = socket_client(alice)
    res = ack(a, "message:send", {"clientId": "n", "threadId": thread.id, "content": "a\x00"})
    assert res["error"]["code"] == "validation_failed"
    res = ack(a, "message:send", {"clientId": "n", "threadId": "t\x00", "content": "a"})
    assert res["error"]["code"] == "validation_failed"


def test_socket_sends_share_the_rate_limit(app, factory, socket_client):
    from dashboard.extensions import limiter

    app.config["RATELIMIT_ENABLED"] = True
    app.config["SEND_RATE_LIMIT"] = "2/minute"
    limiter.init_app(app)
    alice = factory.user()
    thread = factory.thread(alice, [])
    a = socket_client(alice)
    codes = [
        ack(a, "message:send", {"clientId": f"r{i}", "threadId": thread.id, "content": "x"})
        for i in range(3)
    ]
    assert [c["ok"] for c in codes] == [True, True, False]
    assert codes[2]["error"]["code"] == "rate_limited"
