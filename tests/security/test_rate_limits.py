"""Rate limits per user: one send bucket across the API and the socket; typing is limited."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import sqlalchemy as sa

from dashboard.extensions import db, socketio
from dashboard.models import Message
from tests.api.tokens import bearer, token_for

SENDS = 4
TYPINGS = 5
_ids = itertools.count(1)


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """Rate limits on, small enough to reach."""
    app_config.update(
        RATELIMIT_ENABLED=True,
        SEND_RATE_LIMIT=f"{SENDS}/minute",
        TYPING_RATE_LIMIT=f"{TYPINGS}/minute",
    )
    return app_config


@pytest.fixture
def sockets(app):  # type: ignore[no-untyped-def]
    made: list[Any] = []

    def connect(user: Any) -> Any:
        c = socketio.test_client(app, namespace="/chat", auth={"token": token_for(user)})
        assert c.is_connected("/chat")
        made.append(c)
        return c

    yield connect
    for c in made:
        if c.is_connected("/chat"):
            c.disconnect(namespace="/chat")


def api_send(client, user, thread_id):  # type: ignore[no-untyped-def]
    body = {"clientId": f"api-{next(_ids)}", "content": "over the API"}
    return client.post(f"/api/v1/threads/{thread_id}/messages", json=body, headers=bearer(user))


def socket_send(sock, thread_id):  # type: ignore[no-untyped-def]
    payload = {"threadId": thread_id, "clientId": f"ws-{next(_ids)}", "content": "over the socket"}
    return sock.emit("message:send", payload, namespace="/chat", callback=True)


def stored(app) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Message)) or 0


def test_api_and_socket_sends_share_one_bucket(app, client, factory, sockets):
    alice, bob = factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    sock = sockets(alice)
    assert [api_send(client, alice, thread.id).status_code for _ in range(2)] == [201, 201]
    assert [socket_send(sock, thread.id)["ok"] for _ in range(2)] == [True, True]
    refused_ack = socket_send(sock, thread.id)
    refused_api = api_send(client, alice, thread.id)
    assert refused_ack["ok"] is False and refused_ack["error"]["code"] == "rate_limited"
    assert refused_api.status_code == 429
    assert refused_api.get_json()["error"]["code"] == "rate_limited"
    assert stored(app) == SENDS


def test_socket_first_then_api_is_the_same_bucket(app, client, factory, sockets):
    alice = factory.user()
    thread = factory.thread(alice)
    sock = sockets(alice)
    assert all(socket_send(sock, thread.id)["ok"] for _ in range(SENDS - 1))
    assert api_send(client, alice, thread.id).status_code == 201
    assert api_send(client, alice, thread.id).status_code == 429
    assert stored(app) == SENDS


def test_one_users_sends_do_not_use_up_anothers(app, client, factory, sockets):
    alice, bob = factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    for _ in range(SENDS):
        api_send(client, alice, thread.id)
    assert api_send(client, alice, thread.id).status_code == 429
    assert api_send(client, bob, thread.id).status_code == 201
    assert socket_send(sockets(bob), thread.id)["ok"] is True


def typing_events(sock) -> list[Any]:  # type: ignore[no-untyped-def]
    return [e for e in sock.get_received("/chat") if e["name"] == "typing"]


def test_typing_start_is_rate_limited_per_user(app, factory, sockets):
    alice, bob = factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    typist, watcher = sockets(alice), sockets(bob)
    watcher.get_received("/chat")
    acks = [
        typist.emit("typing:start", {"threadId": thread.id}, namespace="/chat", callback=True)
        for _ in range(TYPINGS + 3)
    ]
    assert [a["ok"] for a in acks] == [True] * TYPINGS + [False] * 3
    assert {a["error"]["code"] for a in acks[TYPINGS:]} == {"rate_limited"}
    starts = [e for e in typing_events(watcher) if e["args"][0]["isTyping"]]
    assert len(starts) == TYPINGS  # the refused ones reached no one


def test_the_typing_limit_is_per_user_across_their_sockets(app, factory, sockets):
    alice, bob = factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    tab1, tab2, bobs = sockets(alice), sockets(alice), sockets(bob)
    payload = {"threadId": thread.id}
    for i in range(TYPINGS):
        tab = tab1 if i % 2 else tab2
        assert tab.emit("typing:start", payload, namespace="/chat", callback=True)["ok"]
    assert not tab1.emit("typing:start", payload, namespace="/chat", callback=True)["ok"]
    assert not tab2.emit("typing:start", payload, namespace="/chat", callback=True)["ok"]
    assert bobs.emit("typing:start", payload, namespace="/chat", callback=True)["ok"]
