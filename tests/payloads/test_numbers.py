"""NaN, Infinity and numbers that overflow to them are not JSON: refused, nothing stored.

Before the payload boundary, `NaN` in metadata was stored on SQLite (every later response then
carried invalid JSON, breaking the other participant's chat page) and gave a 500 on PostgreSQL.
"""

from __future__ import annotations

import pytest

from .conftest import (
    assert_refused,
    assert_refused_ack,
    assert_threads_load,
    counts,
    emit_raw,
    post_raw,
)

MESSAGE_BODIES = [
    '{"clientId": "n1", "content": "hi", "metadata": {"x": NaN}}',
    '{"clientId": "n2", "content": "hi", "metadata": {"score": 1e999}}',
    '{"clientId": "n3", "content": "hi", "metadata": {"xs": [1, -Infinity, 3]}}',
    '{"clientId": "n4", "content": "hi", "metadata": {"deep": {"in": [[{"v": -1E+400}]]}}}',
]


@pytest.mark.parametrize("body", MESSAGE_BODIES)
def test_api_send_with_a_non_finite_number_is_refused(app, api, factory, body):
    alice, bob = factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    before = counts(app)
    error = assert_refused(post_raw(api.client, f"/threads/{thread.id}/messages", alice, body))
    assert error["code"] == "bad_request"
    assert error["details"]["reason"] == "non_finite_number"
    assert counts(app) == before
    assert_threads_load(api, bob)


def test_api_thread_metadata_with_infinity_is_refused_on_create_and_patch(app, api, factory):
    alice, bob = factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    before = counts(app)
    body = f'{{"title": "t", "participantIds": ["{bob.id}"], "metadata": {{"w": Infinity}}}}'
    assert assert_refused(post_raw(api.client, "/threads", alice, body))["code"] == "bad_request"
    patch = '{"metadata": {"weights": [0.5, NaN]}}'
    resp = post_raw(api.client, f"/threads/{thread.id}", alice, patch, method="PATCH")
    assert_refused(resp)
    assert counts(app) == before
    assert api.get(f"/threads/{thread.id}", bob).get_json()["metadata"] == {}


SOCKET_PAYLOADS = [
    '{"clientId": "s1", "threadId": "%s", "content": "hi", "metadata": {"x": NaN}}',
    '{"clientId": "s2", "threadId": "%s", "content": "hi", "metadata": {"big": 1e999}}',
    '{"clientId": "s3", "threadId": "%s", "content": "hi", "metadata": {"a": [NaN, NaN]}}',
    '{"clientId": "s4", "threadId": "%s", "content": Infinity}',
]


@pytest.mark.parametrize("payload", SOCKET_PAYLOADS)
def test_socket_send_with_a_non_finite_number_is_refused(app, api, factory, socket_client, payload):
    alice, bob = factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    a, b = socket_client(alice), socket_client(bob)
    before = counts(app)
    error = assert_refused_ack(emit_raw(a, "message:send", payload % thread.id))
    assert error["details"]["reason"] == "non_finite_number"
    assert counts(app) == before
    assert not [e for e in b.get_received("/chat") if e["name"] == "message:new"]
    assert_threads_load(api, bob)


def test_socket_nan_through_the_client_library_is_refused(app, factory, socket_client):
    """The Python client writes float('nan') as NaN; the server still answers, and refuses."""
    alice = factory.user()
    thread = factory.thread(alice, [factory.user()])
    a = socket_client(alice)
    before = counts(app)
    payload = {
        "clientId": "lib",
        "threadId": thread.id,
        "content": "x",
        "metadata": {"n": float("nan")},
    }
    assert_refused_ack(a.emit("message:send", payload, namespace="/chat", callback=True))
    sync = a.emit("sync", {"since": "2020-01-01T00:00:00Z"}, namespace="/chat", callback=True)
    assert sync["ok"] is True
    assert counts(app) == before
