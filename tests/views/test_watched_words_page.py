"""The watched-words page: moderators list, add (errors inline) and delete; audited; CSRF."""

from __future__ import annotations

import json

import sqlalchemy as sa

from dashboard.extensions import db
from dashboard.models import Report, User, WatchedWord
from dashboard.services import messages

from .pages_support import HTMX, audit_rows, csrf_token


def _rules(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalars(sa.select(WatchedWord).order_by(WatchedWord.id)).all()


def test_support_cannot_see_or_change_the_list(client, login_as):
    login_as("support")
    assert client.get("/dashboard/watched-words").status_code == 403
    resp = client.post(
        "/dashboard/watched-words",
        data={"kind": "word", "pattern": "x", "action": "flag", "csrf_token": csrf_token(client)},
    )
    assert resp.status_code == 403
    assert "Watched words" not in client.get("/dashboard").get_data(as_text=True)


def test_add_shows_a_bad_regex_inline_then_adds_and_deletes(app, client, login_as):
    mod = login_as("moderator")
    page = client.get("/dashboard/watched-words").get_data(as_text=True)
    assert "No watched words yet." in page
    bad = client.post(
        "/dashboard/watched-words",
        data={
            "kind": "regex",
            "pattern": "(a+)+",
            "action": "block",
            "csrf_token": csrf_token(client),
        },
        headers=HTMX,
    )
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert 'aria-invalid="true" aria-describedby="err-pattern"' in html
    assert "Nested repeats" in html and 'value="(a+)+"' in html
    assert _rules(app) == []
    ok = client.post(
        "/dashboard/watched-words",
        data={
            "kind": "phrase",
            "pattern": "<b>free</b> money",
            "action": "block",
            "csrf_token": csrf_token(client),
        },
        headers=HTMX,
    )
    assert ok.status_code == 200
    assert "&lt;b&gt;free&lt;/b&gt; money" in ok.get_data(as_text=True)
    assert "<b>free" not in ok.get_data(as_text=True)
    assert json.loads(ok.headers["HX-Trigger"])["toast"].startswith("Added the phrase")
    (rule,) = _rules(app)
    assert rule.created_by_id == mod.id and rule.normalized == "<b>free</b> money"
    no_csrf = client.post(f"/dashboard/watched-words/{rule.id}/delete", headers=HTMX)
    assert no_csrf.status_code == 400 and len(_rules(app)) == 1
    gone = client.post(
        f"/dashboard/watched-words/{rule.id}/delete",
        data={"csrf_token": csrf_token(client)},
        headers=HTMX,
    )
    assert gone.status_code == 200 and _rules(app) == []
    assert [r.target_id for r in audit_rows(app, action="watched_word.add")] == [rule.id]
    assert [r.target_id for r in audit_rows(app, action="watched_word.delete")] == [rule.id]


def test_system_reports_show_in_the_queue(app, client, factory, login_as):
    login_as("moderator")
    client.post(
        "/dashboard/watched-words",
        data={
            "kind": "word",
            "pattern": "refund",
            "action": "flag",
            "csrf_token": csrf_token(client),
        },
    )
    author = factory.user()
    t = factory.thread(author)
    with app.app_context():
        messages.send_message(db.session.get(User, author.id), t.id, content="I want a REFUND")
        assert db.session.scalar(sa.select(Report.reporter_id)) is None
    html = client.get("/dashboard/reports").get_data(as_text=True)
    assert "I want a REFUND" in html and "watched words" in html
    assert "Watched word: “refund”" in html
