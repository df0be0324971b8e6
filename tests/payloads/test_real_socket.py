"""The same refusals over a real WebSocket: the live server's own packet decoder answers.

The Python client writes float("nan") as `NaN` and a lone surrogate as `\\ud800`, as a
hostile browser could; nesting goes to 200 levels (the client library itself recurses on
deeper payloads; the raw packets of test_depth.py go to thousands).
"""

from __future__ import annotations

import pytest

from tests.realtime.clients import ChatClient

from .conftest import assert_refused_ack, counts


def _nested(levels: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(levels):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    "metadata",
    [{"x": float("nan")}, {"xs": [float("-inf")]}, {"k\ud800": 1}, _nested(200)],
    ids=["nan", "-inf-in-array", "surrogate-key", "200-deep"],
)
def test_hostile_send_over_websocket_is_answered_and_nothing_is_stored(
    app, factory, live_server, metadata
):
    alice, bob = factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    a = ChatClient(live_server.url, alice).connect()
    b = ChatClient(live_server.url, bob).connect()
    try:
        before = counts(app)
        payload = {"clientId": "ws", "threadId": thread.id, "content": "x", "metadata": metadata}
        assert_refused_ack(a.call("message:send", payload))
        assert counts(app) == before
        # The connection is fine afterwards, and the other participant's sync answers.
        ok = a.call("message:send", {"clientId": "ws2", "threadId": thread.id, "content": "ok"})
        assert ok["ok"] is True
        sync = b.call("sync", {"since": "2020-01-01T00:00:00Z"})
        assert sync["ok"] is True and [m["content"] for m in sync["messages"]] == ["ok"]
    finally:
        a.disconnect()
        b.disconnect()
