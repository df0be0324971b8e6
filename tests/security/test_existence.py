"""A non-member learns nothing from validation order: 404 for everything about a thread.

SPEC §2: only participants see a thread; everyone else gets 404, never 403 or 422.
"""

from __future__ import annotations

import sqlalchemy as sa

from dashboard.extensions import db, socketio
from dashboard.models import Message
from tests.api.tokens import bearer, token_for


def message_count(app) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Message)) or 0


def world(factory):  # type: ignore[no-untyped-def]
    owner, peer, stranger = factory.user(), factory.user(), factory.user()
    target = factory.thread(owner, [peer])
    elsewhere = factory.thread(stranger)
    return {
        "owner": owner,
        "stranger": stranger,
        "target": target,
        "in_target": factory.message(target, owner, "in the target thread"),
        "elsewhere": factory.message(elsewhere, stranger, "in the stranger's own thread"),
    }


def post(client, thread_id, user, **body):  # type: ignore[no-untyped-def]
    payload = {"content": "hi", **body}
    return client.post(f"/api/v1/threads/{thread_id}/messages", json=payload, headers=bearer(user))


def test_parent_id_tells_a_non_member_nothing(app, client, factory):
    w = world(factory)
    tid = w["target"].id
    answers = [
        post(client, tid, w["stranger"], parentId=w["in_target"].id),
        post(client, tid, w["stranger"], parentId=w["elsewhere"].id),
        post(client, tid, w["stranger"], parentId="no-such-message"),
        post(client, "no-such-thread", w["stranger"], parentId=w["elsewhere"].id),
    ]
    assert [r.status_code for r in answers] == [404] * 4
    assert len({r.get_data() for r in answers}) == 1  # the very same answer
    assert message_count(app) == 2


def test_a_member_still_gets_422_for_a_parent_in_another_thread(app, client, factory):
    w = world(factory)
    resp = post(client, w["target"].id, w["owner"], parentId=w["elsewhere"].id)
    assert resp.status_code == 422
    assert resp.get_json()["error"]["details"]["fields"]["parentId"]


def test_staff_outside_the_thread_get_404_too(app, client, factory):
    w = world(factory)
    admin = factory.user(role="admin")
    for parent in (w["in_target"].id, w["elsewhere"].id):
        assert post(client, w["target"].id, admin, parentId=parent).status_code == 404


def test_an_archived_thread_is_404_not_thread_archived_for_a_non_member(app, client, factory):
    owner, stranger = factory.user(), factory.user()
    archived = factory.thread(owner, is_archived=True)
    parent = factory.message(archived, owner, "old")
    for body in ({}, {"parentId": parent.id}):
        assert post(client, archived.id, stranger, **body).status_code == 404


def test_over_the_socket_a_non_member_gets_not_found_whatever_the_parent(app, factory):
    w = world(factory)
    sock = socketio.test_client(app, namespace="/chat", auth={"token": token_for(w["stranger"])})
    try:
        codes = []
        for parent in (w["in_target"].id, w["elsewhere"].id, "no-such-message"):
            ack = sock.emit(
                "message:send",
                {
                    "threadId": w["target"].id,
                    "clientId": f"c-{parent}",
                    "content": "x",
                    "parentId": parent,
                },
                namespace="/chat",
                callback=True,
            )
            codes.append(ack["error"]["code"])
        assert codes == ["not_found"] * 3
    finally:
        sock.disconnect(namespace="/chat")
    assert message_count(app) == 2
