"""Two processes share PostgreSQL and Redis; one is SIGKILLed during acked sends. Its clients
move to the other and catch up through `sync`; its users go offline on every dashboard."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from dashboard.extensions import db
from dashboard.models import Message
from tests.realtime.clients import ChatClient, wait_for

from .load import Load
from .servers import server_env

pytestmark = pytest.mark.postgres_only
TTL = 5


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def synced_client_ids(client: ChatClient, since: str) -> set[str]:
    """Every message clientId `sync` returns after `since`, following the cursor."""
    seen: set[str] = set()
    while True:
        ack = client.call("sync", {"since": since})
        assert ack["ok"], ack
        seen |= {m["clientId"] for m in ack["messages"] + ack["updates"]}
        since = ack["cursor"]
        if not ack["hasMore"]:
            return seen


def test_a_killed_process_clients_catch_up_on_the_other(
    app, factory, servers, database_url, redis_process
):
    s1, s2, mover, observer, reader = (factory.user() for _ in range(5))
    staff = factory.user(role="support")
    thread = factory.thread(s1, [s2, mover, observer, reader])
    env = server_env(database_url, REDIS_URL=redis_process.url, PRESENCE_TTL=TTL)
    a, b = servers(env), servers(env)

    on_b = ChatClient(b.url, reader).connect()
    live = ChatClient(b.url, staff, namespace="/live").connect()
    senders = [ChatClient(a.url, u).connect() for u in (s1, s2)]
    stay_on_a = [ChatClient(a.url, u).connect() for u in (mover, observer)]
    moved: list[ChatClient] = []
    try:
        # A client on A sends, a client on B receives.
        first = senders[0].call(
            "message:send", {"clientId": "hello-b", "threadId": thread.id, "content": "hi B"}
        )
        assert first["ok"]
        wait_for(lambda: any(m["clientId"] == "hello-b" for m in on_b.received("message:new")))

        since = iso(datetime.now(UTC) - timedelta(seconds=1))
        load = Load(a.url, None, thread.id, senders)
        load.stop_on_transport_error = True
        load.start()
        time.sleep(2)
        a.kill()

        # A's users that did not move go offline on B's dashboards within the TTL.
        def offline_on_b() -> bool:
            return any(
                p["userId"] == observer.id and p["status"] == "offline"
                for p in live.received("presence")
            )

        wait_for(offline_on_b, timeout=TTL + 5)
        outcomes = load.stop()

        # Clients move to B and catch up.
        moved = [ChatClient(b.url, u).connect() for u in (s1, s2, mover)]
        acked = {o.client_id for o in outcomes if o.result == "ok"}
        assert len(acked) > 5
        for client in moved:
            missing = acked - synced_client_ids(client, since)
            assert missing == set(), f"{client.user.username} missed {len(missing)} messages"

    finally:
        for c in [on_b, live, *senders, *stay_on_a, *moved]:
            c.disconnect()

    with app.app_context():
        stored = Counter(
            db.session.scalars(
                sa.select(Message.client_id).where(Message.client_id.in_(acked | {"hello-b"}))
            )
        )
    assert all(stored[cid] == 1 for cid in acked | {"hello-b"}), stored
    assert set(Counter(o.result for o in outcomes)) <= {"ok"} | {
        r for r in (o.result for o in outcomes) if r.startswith("transport:")
    }
