"""Nesting is bounded: metadata at 16 levels, a whole body or socket payload at 32.

Before the payload boundary, 600 nested objects fitted in 8 KB of metadata: the message was
committed and then the broadcast crashed with a RecursionError (a 500 for a stored message),
and a body nested 1,000+ levels raised RecursionError inside get_json.
"""

from __future__ import annotations

import json

import pytest

from dashboard.payloads.limits import METADATA_DEPTH

from .conftest import (
    assert_refused,
    assert_refused_ack,
    assert_threads_load,
    counts,
    emit_raw,
    post_raw,
)


def objects(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


def arrays(levels: int) -> str:
    return "[" * levels + "1" + "]" * levels


@pytest.mark.parametrize(
    "metadata, status",
    [
        (objects(600), 400),  # the 600 objects: past the body's bound
        (arrays(600), 400),  # the same depth in arrays
        (objects(METADATA_DEPTH + 1), 422),  # within the body's bound, past metadata's
        ('{"list": ' + arrays(METADATA_DEPTH) + "}", 422),
    ],
)
def test_api_deep_metadata_is_refused_before_anything_is_stored(
    app, api, factory, metadata, status
):
    alice, bob = factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    before = counts(app)
    body = f'{{"clientId": "deep", "content": "hi", "metadata": {{"m": {metadata}}}}}'
    error = assert_refused(
        post_raw(api.client, f"/threads/{thread.id}/messages", alice, body), status
    )
    if status == 422:
        assert error["code"] == "validation_failed"
        assert "metadata" in error["details"]["fields"]
    assert counts(app) == before
    assert_threads_load(api, bob)


def test_api_metadata_at_the_bound_is_stored_and_served(app, api, factory):
    alice, bob = factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    meta = json.loads(objects(METADATA_DEPTH - 1))
    resp = api.post(
        f"/threads/{thread.id}/messages", alice, json={"content": "ok", "metadata": meta}
    )
    assert resp.status_code == 201
    page = api.get(f"/threads/{thread.id}/messages", bob).get_json()
    assert page["items"][0]["metadata"] == meta


@pytest.mark.parametrize("body", [arrays(5000), objects(100_000), "[" * 2000])
def test_api_body_nested_thousands_of_levels_is_a_clean_400(app, api, factory, body):
    alice = factory.user()
    thread = factory.thread(alice, [factory.user()])
    before = counts(app)
    error = assert_refused(post_raw(api.client, f"/threads/{thread.id}/messages", alice, body))
    assert error["details"]["reason"] == "too_deep"
    resp = post_raw(api.client, "/threads", alice, body)
    assert assert_refused(resp)["code"] == "bad_request"
    assert counts(app) == before


@pytest.mark.parametrize(
    "metadata",
    [objects(600), arrays(600), objects(METADATA_DEPTH + 1), arrays(METADATA_DEPTH + 4)],
)
def test_socket_deep_metadata_is_refused_and_the_thread_still_syncs(
    app, api, factory, socket_client, metadata
):
    alice, bob = factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    a, b = socket_client(alice), socket_client(bob)
    before = counts(app)
    payload = (
        f'{{"clientId": "d", "threadId": "{thread.id}", "content": "x", '
        f'"metadata": {{"m": {metadata}}}}}'
    )
    assert_refused_ack(emit_raw(a, "message:send", payload))
    assert counts(app) == before
    sync = b.emit("sync", {"since": "2020-01-01T00:00:00Z"}, namespace="/chat", callback=True)
    assert sync["ok"] is True and sync["messages"] == []
    assert_threads_load(api, bob)


@pytest.mark.parametrize("event", ["typing:start", "presence:query", "sync"])
def test_socket_payload_nested_thousands_of_levels_is_answered(app, factory, socket_client, event):
    alice = factory.user()
    a = socket_client(alice)
    error = assert_refused_ack(emit_raw(a, event, arrays(3000)))
    assert error["details"]["reason"] == "too_deep"
    assert a.emit("typing:stop", {"threadId": "x"}, namespace="/chat", callback=True)["ok"] is False
    assert a.is_connected("/chat")
