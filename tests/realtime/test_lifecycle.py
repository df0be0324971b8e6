"""Clients cannot run the lifecycle handlers: a forged `disconnect` or `connect` changes nothing.

Issue 9, finding 1: a client that emitted an event named `disconnect` (the raw packet
`42/chat,["disconnect",{}]`) used to run the namespace's disconnect handler, which forgot the
socket while it stayed connected and in its rooms; deactivation, removal from a thread and
demotion then no longer reached it. Real python-socketio clients against the live server.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest

from dashboard.extensions import db
from dashboard.models import User
from dashboard.services import threads, users
from tests.api.tokens import token_for

from .clients import ChatClient, wait_for


@pytest.fixture
def clients(live_server):
    made: list[ChatClient] = []

    def connect(user: Any, namespace: str = "/chat") -> ChatClient:
        c = ChatClient(live_server.url, user, namespace).connect()
        made.append(c)
        return c

    yield connect
    for c in made:
        c.disconnect()


@pytest.fixture
def tracebacks(monkeypatch, caplog) -> Callable[[], list[str]]:
    """Tracebacks the server left: crashed handler threads, and log records with exc_info."""
    crashed: list[str] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: crashed.append(repr(args.exc_value)))
    caplog.set_level("INFO")
    return lambda: [*crashed, *(r.getMessage() for r in caplog.records if r.exc_info)]


def forged(c: ChatClient, event: str, *args: Any) -> Any:
    """Emit a lifecycle name as an ordinary event and wait for the server's ack."""
    return c.sio.call(
        event, args[0] if len(args) == 1 else args or None, namespace=c.ns, timeout=10
    )


def refusal_logged(caplog: Any, event: str) -> bool:
    return any(f"client-sent '{event}'" in r.getMessage() for r in caplog.records)


def send(c: ChatClient, thread_id: str, content: str) -> dict[str, Any]:
    res = c.call("message:send", {"clientId": content, "threadId": thread_id, "content": content})
    assert res["ok"], res
    return res["message"]


def contents(c: ChatClient) -> list[str]:
    return [m["content"] for m in c.received("message:new")]


def test_the_raw_disconnect_packet_then_deactivation_still_drops_the_socket(
    app, factory, clients, caplog
):
    alice, bob, mod = factory.user(), factory.user(), factory.user(role="moderator")
    thread = factory.thread(alice, [bob])
    a = clients(alice)
    b = clients(bob)
    # The packet of the issue, exactly: no ack id, so wait for the server to have handled it
    # (the fixed server logs the refusal; the old one announced Bob offline to Alice).
    b.sio.eio.send('2/chat,["disconnect",{}]')
    wait_for(
        lambda: (
            refusal_logged(caplog, "disconnect")
            or any(p["status"] == "offline" for p in a.received("presence"))
        )
    )
    assert b.sio.connected
    with app.app_context():
        users.set_active(db.session.get(User, mod.id), bob.id, False, "spam")
    wait_for(lambda: not b.sio.connected)
    assert b.received("session:ended") == [{"userId": bob.id}]
    send(a, thread.id, "after the deactivation")
    wait_for(lambda: "after the deactivation" in contents(a))
    assert "after the deactivation" not in contents(b)


def test_a_forged_disconnect_then_removal_from_the_thread_still_leaves_its_room(
    app, factory, clients
):
    alice, bob = factory.user(), factory.user()
    removed_from = factory.thread(alice, [bob], title="removed")
    still_shared = factory.thread(alice, [bob], title="kept")
    a, b = clients(alice), clients(bob)
    res = forged(b, "disconnect", {})
    with app.app_context():
        threads.remove_participant(db.session.get(User, alice.id), removed_from.id, bob.id)
    wait_for(lambda: b.received("thread:removed"))
    assert a.call("typing:start", {"threadId": removed_from.id}) == {"ok": True}
    send(a, removed_from.id, "bob is gone")
    send(a, still_shared.id, "marker")  # the same socket, after: Bob gets this one
    wait_for(lambda: "marker" in contents(b))
    assert "bob is gone" not in contents(b)
    assert [t["threadId"] for t in b.received("typing")] == []
    assert res["ok"] is False  # refused, with an ack like any other event


def test_a_forged_disconnect_on_live_then_demotion_still_drops_the_dashboard(app, factory, clients):
    admin, mod = factory.user(role="admin"), factory.user(role="moderator")
    live = clients(mod, "/live")
    wait_for(lambda: live.received("presence:snapshot"))
    res = forged(live, "disconnect", "client namespace disconnect")  # odd args: a reason
    with app.app_context():
        users.change_role(db.session.get(User, admin.id), mod.id, "user", "no longer staff")
    wait_for(lambda: not live.sio.connected)
    assert live.received("report:new") == []
    assert res["ok"] is False


def test_forged_connect_runs_nothing_and_leaves_no_traceback(
    app, factory, clients, tracebacks, caplog
):
    alice, bob, mod = factory.user(), factory.user(), factory.user(role="moderator")
    thread = factory.thread(alice, [bob])
    a, b = clients(alice), clients(bob)
    # No auth at all (the old handler refused it with a traceback), and someone else's token.
    assert forged(b, "connect")["ok"] is False
    assert forged(b, "connect", {"token": token_for(alice)})["ok"] is False
    assert forged(b, "connect_error", {"message": "x"})["ok"] is False
    assert refusal_logged(caplog, "connect")
    send(a, thread.id, "still bob's")
    wait_for(lambda: "still bob's" in contents(b))
    assert tracebacks() == []
    with app.app_context():
        users.set_active(db.session.get(User, mod.id), bob.id, False, "spam")
    wait_for(lambda: not b.sio.connected)


def test_forged_disconnect_with_odd_arguments_changes_nothing(app, factory, clients, tracebacks):
    alice, bob, mod = factory.user(), factory.user(), factory.user(role="moderator")
    factory.thread(alice, [bob])
    a, b = clients(alice), clients(bob)
    acks = [
        forged(b, "disconnect", *args)
        for args in ((), ("transport close",), (1, 2, 3), ({"sid": "x"}, None))
    ]
    # Bob is still online for Alice, and the server still knows his socket.
    res = a.call("presence:query", {"userIds": [bob.id]})
    assert res["presence"][0]["status"] == "online"
    assert [p for p in a.received("presence") if p["status"] == "offline"] == []
    assert tracebacks() == []
    with app.app_context():
        users.set_active(db.session.get(User, mod.id), bob.id, False, "spam")
    wait_for(lambda: not b.sio.connected)
    assert [a["ok"] for a in acks] == [False] * 4


def test_raw_lifecycle_packets_on_live_are_refused(app, factory, clients, caplog):
    admin, mod = factory.user(role="admin"), factory.user(role="moderator")
    live = clients(mod, "/live")
    wait_for(lambda: live.received("presence:snapshot"))
    live.sio.eio.send('2/live,["disconnect",{}]')
    live.sio.eio.send("2/live," + json.dumps(["connect", {"token": "forged"}]))
    wait_for(lambda: refusal_logged(caplog, "disconnect") and refusal_logged(caplog, "connect"))
    with app.app_context():
        users.change_role(db.session.get(User, admin.id), mod.id, "support", "less power")
    wait_for(lambda: not live.sio.connected)
