"""Threads over the API: create, read, rename, membership, and the caller's list."""

from __future__ import annotations

import sqlalchemy as sa

from dashboard.extensions import db
from dashboard.models import Participant, Thread


def test_create_thread_includes_creator_and_others(api, factory):
    alice, bob = factory.user(), factory.user()
    resp = api.post("/threads", alice, json={"title": "Plans", "participantIds": [bob.id]})
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["title"] == "Plans"
    assert body["creatorId"] == alice.id
    assert [p["id"] for p in body["participants"]] == [alice.id, bob.id]
    assert "email" not in body["participants"][0]
    assert api.get(f"/threads/{body['id']}", bob).status_code == 200


def test_create_thread_rejects_bad_input_and_writes_nothing(api, factory, app):
    alice = factory.user()
    for payload in (
        {"participantIds": []},
        {"title": "", "participantIds": []},
        {"title": "x" * 201, "participantIds": []},
        {"title": "ok", "participantIds": ["nobody"]},
        {"title": "ok", "participantIds": "nope"},
        {"title": "ok", "participantIds": [], "metadata": [1]},
    ):
        resp = api.post("/threads", alice, json=payload)
        assert resp.status_code == 422, payload
        assert resp.get_json()["error"]["code"] == "validation_failed"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Thread)) == 0


def test_non_participant_gets_404_never_403(api, factory):
    alice, bob, eve = factory.user(), factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    for method, path, kw in (
        ("GET", f"/threads/{thread.id}", {}),
        ("PATCH", f"/threads/{thread.id}", {"json": {"title": "mine"}}),
        ("GET", f"/threads/{thread.id}/messages", {}),
        ("POST", f"/threads/{thread.id}/messages", {"json": {"content": "hi"}}),
        ("POST", f"/threads/{thread.id}/read", {"json": {"messageId": "x"}}),
        ("POST", f"/threads/{thread.id}/participants", {"json": {"userIds": [eve.id]}}),
    ):
        resp = api.call(method, path, eve, **kw)
        assert resp.status_code == 404, (method, path)
        assert resp.get_json()["error"]["code"] == "not_found"


def test_patch_by_creator_only(api, factory):
    alice, bob = factory.user(), factory.user()
    thread = factory.thread(alice, [bob], title="Old")
    assert api.patch(f"/threads/{thread.id}", bob, json={"title": "Bob's"}).status_code == 403
    resp = api.patch(f"/threads/{thread.id}", alice, json={"title": "New", "name": "new"})
    assert resp.status_code == 200
    assert resp.get_json()["title"] == "New"
    assert api.get(f"/threads/{thread.id}", bob).get_json()["name"] == "new"


def test_add_and_remove_participants(api, factory, app):
    alice, bob, carol = factory.user(), factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    path = f"/threads/{thread.id}/participants"
    assert api.post(path, bob, json={"userIds": [carol.id]}).status_code == 403
    resp = api.post(path, alice, json={"userIds": [carol.id]})
    assert resp.status_code == 200
    assert {p["id"] for p in resp.get_json()["participants"]} == {alice.id, bob.id, carol.id}
    # Bob may not remove Carol, but may leave.
    assert api.delete(f"{path}/{carol.id}", bob).status_code == 403
    assert api.delete(f"{path}/{bob.id}", bob).status_code == 200
    assert api.get(f"/threads/{thread.id}", bob).status_code == 404
    assert api.delete(f"{path}/{carol.id}", alice).status_code == 200
    with app.app_context():
        left = db.session.scalars(
            sa.select(Participant.user_id).where(Participant.thread_id == thread.id)
        ).all()
    assert left == [alice.id]


def test_list_threads_newest_activity_first_with_unread_and_last_message(api, factory, app):
    from datetime import timedelta

    from dashboard.models import utcnow

    alice, bob = factory.user(), factory.user()
    t0 = utcnow() - timedelta(hours=1)
    old = factory.thread(alice, [bob], title="old", at=t0)
    new = factory.thread(alice, [bob], title="new", at=t0 + timedelta(minutes=1))
    archived = factory.thread(alice, [bob], title="gone", at=t0, is_archived=True)
    factory.thread(bob, [], title="not alice's")
    m1 = factory.message(old, bob, "one", at=t0 + timedelta(minutes=2))
    factory.message(old, bob, "two", at=t0 + timedelta(minutes=3))
    factory.message(old, alice, "mine", at=t0 + timedelta(minutes=4))
    api.post(f"/threads/{old.id}/read", alice, json={"messageId": m1.id})

    body = api.get("/threads", alice).get_json()
    assert [t["title"] for t in body["items"]] == ["old", "new"]
    first = body["items"][0]
    assert first["unreadCount"] == 1
    assert first["lastMessage"]["content"] == "mine"
    assert body["items"][1]["unreadCount"] == 0 and body["items"][1]["lastMessage"] is None
    assert body["nextCursor"] is None
    got = api.get("/threads?archived=true", alice).get_json()["items"]
    assert [t["id"] for t in got] == [archived.id]
    assert len(api.get("/threads?archived=all", alice).get_json()["items"]) == 3
    assert api.get(f"/threads/{new.id}", alice).status_code == 200


def test_list_threads_keyset_pages_and_fixed_query_count(api, factory, app):
    from datetime import timedelta

    from dashboard.models import utcnow

    alice, bob, carol = factory.user(), factory.user(), factory.user()
    t0 = utcnow() - timedelta(days=1)
    made = []
    for i in range(7):
        th = factory.thread(alice, [bob, carol], at=t0 + timedelta(minutes=i))
        factory.message(th, bob, f"m{i}", at=t0 + timedelta(minutes=i, seconds=30))
        made.append(th.id)
    seen, cursor = [], None
    while True:
        q = "/threads?limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = api.get(q, alice).get_json()
        seen += [t["id"] for t in body["items"]]
        cursor = body["nextCursor"]
        if not cursor:
            break
    assert seen == list(reversed(made))

    from dashboard.services import threads as threads_service

    def count(limit):
        statements = []
        with app.app_context():
            engine = db.engine
            listen = lambda *a, **k: statements.append(1)  # noqa: E731
            sa.event.listen(engine, "before_cursor_execute", listen)
            try:
                threads_service.list_threads(alice.id, limit=limit)
            finally:
                sa.event.remove(engine, "before_cursor_execute", listen)
        return len(statements)

    assert count(2) == count(7)
    assert count(7) <= 9  # page, participants, last ids, last messages (+4), unread


def test_bad_cursor_and_limit(api, factory):
    alice = factory.user()
    assert api.get("/threads?cursor=%%%", alice).status_code == 400
    assert api.get("/threads?limit=101", alice).status_code == 422
    assert api.get("/threads?limit=abc", alice).status_code == 422
    assert api.get("/threads?archived=maybe", alice).status_code == 422


def test_users_search_and_presence(api, factory):
    alice = factory.user(username="alice_q")
    factory.user(username="alicia_q")
    factory.user(username="bob_q")
    names = [u["username"] for u in api.get("/users?q=ali", alice).get_json()["items"]]
    assert names == ["alice_q", "alicia_q"]
    assert "email" not in api.get("/users?q=ali", alice).get_json()["items"][0]
    pres = api.get(f"/presence?userIds={alice.id},unknown", alice).get_json()["items"]
    assert pres == [{"userId": alice.id, "status": "offline", "lastSeen": None}]


def test_me_with_bearer_and_without_auth(api, client, factory):
    alice = factory.user()
    assert api.get("/me", alice).get_json()["id"] == alice.id
    resp = client.get("/api/v1/me")
    assert resp.status_code == 401
    assert resp.get_json()["error"]["code"] == "unauthorized"
