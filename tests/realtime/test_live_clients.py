"""Real python-socketio clients over WebSocket against the live server."""

from __future__ import annotations

import uuid

import pytest

from .clients import ChatClient, wait_for


@pytest.fixture
def clients(live_server):
    made = []

    def connect(user):
        c = ChatClient(live_server.url, user).connect()
        made.append(c)
        return c

    yield connect
    for c in made:
        c.disconnect()


def test_two_users_exchange_messages_with_statuses(factory, clients):
    alice, bob = factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    a, b = clients(alice), clients(bob)

    sent = a.call("message:send", {"clientId": "a1", "threadId": thread.id, "content": "hi bob"})
    assert sent["ok"] and sent["message"]["status"] == "sent"
    mid = sent["message"]["id"]
    got = wait_for(lambda: b.received("message:new"))
    assert got[0]["content"] == "hi bob" and got[0]["user"]["id"] == alice.id
    # The sender's own socket gets it too (other tabs); it matches on clientId.
    assert wait_for(lambda: a.received("message:new"))[0]["clientId"] == "a1"

    assert b.call("messages:delivered", {"threadId": thread.id, "messageId": mid}) == {"ok": True}
    st = wait_for(lambda: a.received("message:status"))
    assert st[0] == {"threadId": thread.id, "messageIds": [mid], "status": "delivered"}
    assert b.call("messages:read", {"threadId": thread.id, "messageId": mid}) == {"ok": True}
    wait_for(lambda: len(a.received("message:status")) == 2)
    assert a.received("message:status")[1]["status"] == "read"

    reply = b.call("message:send", {"clientId": "b1", "threadId": thread.id, "content": "hey"})
    assert reply["ok"]
    assert wait_for(lambda: a.received("message:new")[1:])[0]["content"] == "hey"


def test_typing_and_presence_arrive(factory, clients):
    alice, bob = factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    b = clients(bob)
    a = clients(alice)
    online = wait_for(lambda: b.received("presence"))
    assert online[0]["userId"] == alice.id and online[0]["status"] == "online"
    assert a.call("typing:start", {"threadId": thread.id}) == {"ok": True}
    typing = wait_for(lambda: b.received("typing"))
    assert typing[0]["userId"] == alice.id and typing[0]["isTyping"] is True
    a.call("typing:stop", {"threadId": thread.id})
    wait_for(lambda: len(b.received("typing")) == 2)
    assert b.received("typing")[1]["isTyping"] is False
    a.disconnect()
    offline = wait_for(lambda: b.received("presence")[1:])
    assert offline[0]["status"] == "offline" and offline[0]["lastSeen"]


def test_disconnected_client_gets_each_of_50_messages_once_through_sync(factory, clients):
    alice, bob = factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    a, b = clients(alice), clients(bob)
    first = a.call("message:send", {"clientId": "x0", "threadId": thread.id, "content": "0"})
    wait_for(lambda: b.received("message:new"))
    # Bob's last position: the cursor of a sync done while connected.
    cursor = b.call("sync", {"since": first["message"]["createdAt"]})["cursor"]
    b.disconnect()

    sent_ids = []
    for i in range(50):
        res = a.call(
            "message:send",
            {"clientId": uuid.uuid4().hex, "threadId": thread.id, "content": f"m{i}"},
        )
        assert res["ok"]
        sent_ids.append(res["message"]["id"])

    b2 = clients(bob)
    got = []
    while True:
        res = b2.call("sync", {"since": cursor, "limit": 20})
        assert res["ok"]
        got += [m["id"] for m in res["messages"]]
        cursor = res["cursor"]
        if not res["hasMore"]:
            break
    assert got == sent_ids  # each exactly once, in order
