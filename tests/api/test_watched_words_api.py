"""Watched words over the API: a block is `blocked` (422) and stores nothing; a flag reports."""

from __future__ import annotations

import sqlalchemy as sa

from dashboard.extensions import db
from dashboard.models import Message, Report, User
from dashboard.services import watched_words


def _rule(app, factory, kind, pattern, action):  # type: ignore[no-untyped-def]
    mod = factory.user(role="moderator")
    with app.app_context():
        watched_words.add_rule(db.session.get(User, mod.id), kind, pattern, action)


def _count(app, model):  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_blocked_send_and_edit_are_refused_with_nothing_stored(api, factory, app):
    alice = factory.user()
    thread = factory.thread(alice, [factory.user()])
    _rule(app, factory, "word", "scam", "block")
    resp = api.post(
        f"/threads/{thread.id}/messages", alice, json={"clientId": "c", "content": "A SCAM!"}
    )
    assert resp.status_code == 422
    err = resp.get_json()["error"]
    assert err["code"] == "blocked" and err["details"] == {"category": "word"}
    assert "blocked word" in err["message"]
    assert _count(app, Message) == 0
    ok = api.post(
        f"/threads/{thread.id}/messages", alice, json={"clientId": "d", "content": "fine"}
    )
    assert ok.status_code == 201
    mid = ok.get_json()["id"]
    edit = api.patch(f"/messages/{mid}", alice, json={"content": "scam after all"})
    assert edit.status_code == 422 and edit.get_json()["error"]["code"] == "blocked"
    with app.app_context():
        assert db.session.get(Message, mid).content == "fine"


def test_flagged_send_is_stored_and_reported_by_the_system(api, factory, app):
    alice = factory.user()
    thread = factory.thread(alice, [factory.user()])
    _rule(app, factory, "phrase", "chargeback", "flag")
    resp = api.post(
        f"/threads/{thread.id}/messages", alice, json={"content": "I will file a CHARGEBACK"}
    )
    assert resp.status_code == 201
    with app.app_context():
        report = db.session.scalar(sa.select(Report))
        assert report.message_id == resp.get_json()["id"] and report.reporter_id is None
