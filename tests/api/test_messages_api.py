"""Messages over the API: send (idempotent), validation, pages, edit/delete, read, reports."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from dashboard.extensions import db
from dashboard.models import Mention, Message, Participant, Report, Thread


def _count(app, model=Message):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_send_then_replay_returns_the_same_message(api, factory, app):
    alice, bob = factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    path = f"/threads/{thread.id}/messages"
    first = api.post(path, alice, json={"clientId": "c-1", "content": "hello @" + bob.username})
    assert first.status_code == 201
    msg = first.get_json()
    assert msg["status"] == "sent"
    assert msg["mentions"] == [bob.id]
    assert msg["user"]["id"] == alice.id
    again = api.post(path, alice, json={"clientId": "c-1", "content": "something else"})
    assert again.status_code == 200
    assert again.get_json()["id"] == msg["id"]
    assert again.get_json()["content"] == msg["content"]
    assert _count(app) == 1
    with app.app_context():
        t = db.session.get(Thread, thread.id)
        assert t.message_count == 1 and t.last_message_at is not None


def test_replay_under_a_race_never_makes_two_rows(api, factory, app):
    alice = factory.user()
    thread = factory.thread(alice, [factory.user()])
    results = []

    def send():
        c = app.test_client()
        from .tokens import bearer

        r = c.post(
            f"/api/v1/threads/{thread.id}/messages",
            json={"clientId": "race", "content": "once"},
            headers=bearer(alice),
        )
        results.append((r.status_code, r.get_json()["id"]))

    workers = [threading.Thread(target=send) for _ in range(6)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len({mid for _, mid in results}) == 1
    assert sorted(code for code, _ in results) == [200] * 5 + [201]
    assert _count(app) == 1


def test_mentions_only_resolve_participants(api, factory, app):
    alice, bob, outsider = factory.user(), factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    body = {"clientId": "m", "content": f"@{bob.username} and @{outsider.username} and @nobody"}
    msg = api.post(f"/threads/{thread.id}/messages", alice, json=body).get_json()
    assert msg["mentions"] == [bob.id]
    with app.app_context():
        assert db.session.scalars(sa.select(Mention.user_id)).all() == [bob.id]


def test_validation_errors_change_nothing(api, factory, app):
    alice = factory.user()
    thread = factory.thread(alice, [factory.user()])
    other = factory.thread(alice, [])
    parent_elsewhere = factory.message(other, alice, "elsewhere")
    path = f"/threads/{thread.id}/messages"
    cases = [
        {"content": ""},
        {"content": "   "},
        {"content": "x" * 10_001},
        {"content": 5},
        {"content": "hi", "attachments": [{"type": "link", "url": "javascript:alert(1)"}]},
        {"content": "hi", "attachments": [{"type": "link", "url": "ftp://x.test/a"}]},
        {
            "content": "hi",
            "attachments": [{"type": "link", "url": f"https://x.test/{i}"} for i in range(11)],
        },
        {"content": "hi", "attachments": [{"id": "not-an-upload"}]},
        {"content": "hi", "parentId": parent_elsewhere.id},
        {"content": "hi", "clientId": "x" * 65},
        {"content": "hi", "metadata": "text"},
    ]
    before = _count(app)
    for body in cases:
        resp = api.post(path, alice, json=body)
        assert resp.status_code == 422, body
        err = resp.get_json()["error"]
        assert err["code"] == "validation_failed" and err["message"]
    assert _count(app) == before
    ok = api.post(path, alice, json={"content": "x" * 10_000, "clientId": "max"})
    assert ok.status_code == 201
    link = {"type": "link", "url": "https://example.test/doc"}
    ok = api.post(path, alice, json={"content": "", "attachments": [link], "clientId": "l"})
    assert ok.status_code == 201
    assert ok.get_json()["attachments"][0]["url"] == link["url"]


def test_archived_thread_is_read_only(api, factory, app):
    alice = factory.user()
    thread = factory.thread(alice, [factory.user()], is_archived=True)
    resp = api.post(f"/threads/{thread.id}/messages", alice, json={"content": "hi"})
    assert resp.status_code == 409
    assert resp.get_json()["error"]["code"] == "thread_archived"
    assert _count(app) == 0


def test_reply_in_same_thread(api, factory):
    alice, bob = factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    parent = factory.message(thread, bob, "question")
    resp = api.post(
        f"/threads/{thread.id}/messages", alice, json={"content": "answer", "parentId": parent.id}
    )
    assert resp.status_code == 201
    assert resp.get_json()["parentId"] == parent.id


def test_pages_before_and_after(api, factory):
    from datetime import timedelta

    from dashboard.models import utcnow

    alice = factory.user()
    thread = factory.thread(alice, [factory.user()])
    t0 = utcnow() - timedelta(hours=1)
    ids = [
        factory.message(thread, alice, f"m{i}", at=t0 + timedelta(seconds=i)).id for i in range(7)
    ]
    path = f"/threads/{thread.id}/messages"
    newest = api.get(f"{path}?limit=3", alice).get_json()
    assert [m["id"] for m in newest["items"]] == ids[4:]
    assert newest["hasMoreBefore"] and not newest["hasMoreAfter"]
    older = api.get(f"{path}?limit=3&before={ids[4]}", alice).get_json()
    assert [m["id"] for m in older["items"]] == ids[1:4]
    assert older["hasMoreBefore"] and older["hasMoreAfter"]
    first = api.get(f"{path}?limit=3&before={ids[1]}", alice).get_json()
    assert [m["id"] for m in first["items"]] == ids[:1] and not first["hasMoreBefore"]
    after = api.get(f"{path}?limit=4&after={ids[1]}", alice).get_json()
    assert [m["id"] for m in after["items"]] == ids[2:6]
    assert after["hasMoreBefore"] and after["hasMoreAfter"]
    assert api.get(f"{path}?limit=0", alice).status_code == 422


def test_edit_and_delete_own_only(api, factory, app):
    alice, bob = factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    msg = api.post(f"/threads/{thread.id}/messages", alice, json={"content": "typo"}).get_json()
    assert api.patch(f"/messages/{msg['id']}", bob, json={"content": "x"}).status_code == 403
    edited = api.patch(f"/messages/{msg['id']}", alice, json={"content": "fixed"})
    assert edited.status_code == 200 and edited.get_json()["content"] == "fixed"
    assert "editedAt" in edited.get_json()["metadata"]
    assert api.patch(f"/messages/{msg['id']}", alice, json={"content": ""}).status_code == 422
    assert api.delete(f"/messages/{msg['id']}", bob).status_code == 403
    gone = api.delete(f"/messages/{msg['id']}", alice).get_json()
    assert gone["content"] == "" and gone["metadata"]["removed"] == "author"
    listed = api.get(f"/threads/{thread.id}/messages", bob).get_json()["items"]
    assert listed[0]["content"] == "" and listed[0]["metadata"]["removed"] == "author"
    with app.app_context():
        row = db.session.get(Message, msg["id"])
        assert row is not None and row.deleted_at is not None and row.content == ""
    assert api.patch(f"/messages/{msg['id']}", alice, json={"content": "x"}).status_code == 409
    eve = factory.user()
    assert api.delete(f"/messages/{msg['id']}", eve).status_code == 404


def test_read_moves_forward_only_and_drives_status(api, factory, app):
    alice, bob = factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    path = f"/threads/{thread.id}/messages"
    m1 = api.post(path, alice, json={"content": "one"}).get_json()
    m2 = api.post(path, alice, json={"content": "two"}).get_json()
    assert (
        api.post(f"/threads/{thread.id}/read", bob, json={"messageId": m2["id"]}).status_code == 200
    )
    api.post(f"/threads/{thread.id}/read", bob, json={"messageId": m1["id"]})
    with app.app_context():
        part = db.session.get(Participant, (thread.id, bob.id))
        assert part.read_through == m2["id"] and part.delivered_through == m2["id"]
    statuses = [m["status"] for m in api.get(path, alice).get_json()["items"]]
    assert statuses == ["read", "read"]
    resp = api.post(f"/threads/{thread.id}/read", bob, json={"messageId": "nope"})
    assert resp.status_code == 404
    assert api.post(f"/threads/{thread.id}/read", bob, json={}).status_code == 422


def test_sender_only_thread_stays_sent(api, factory):
    alice = factory.user()
    thread = factory.thread(alice, [])
    msg = api.post(f"/threads/{thread.id}/messages", alice, json={"content": "note"}).get_json()
    api.post(f"/threads/{thread.id}/read", alice, json={"messageId": msg["id"]})
    items = api.get(f"/threads/{thread.id}/messages", alice).get_json()["items"]
    assert items[0]["status"] == "sent"


def test_report_a_message(api, factory, app):
    alice, bob, eve = factory.user(), factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    msg = factory.message(thread, alice, "rude")
    resp = api.post(f"/messages/{msg.id}/reports", bob, json={"reason": "rude"})
    assert resp.status_code == 201 and resp.get_json()["state"] == "open"
    assert api.post(f"/messages/{msg.id}/reports", eve, json={"reason": "x"}).status_code == 404
    assert api.post(f"/messages/{msg.id}/reports", bob, json={"reason": ""}).status_code == 422
    assert _count(app, Report) == 1


def test_send_rate_limit_answers_429_json(api, factory, app):
    app.config["RATELIMIT_ENABLED"] = True
    app.config["SEND_RATE_LIMIT"] = "3/minute"
    from dashboard.extensions import limiter

    limiter.init_app(app)
    alice = factory.user()
    thread = factory.thread(alice, [])
    codes = [
        api.post(f"/threads/{thread.id}/messages", alice, json={"content": str(i)}).status_code
        for i in range(4)
    ]
    assert codes == [201, 201, 201, 429]
    last = api.post(f"/threads/{thread.id}/messages", alice, json={"content": "x"})
    assert last.get_json()["error"]["code"] == "rate_limited"
    assert _count(app) == 3
