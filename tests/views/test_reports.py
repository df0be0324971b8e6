"""The reports queue: open reports shown escaped, resolved inline (dismiss, or hide)."""

from __future__ import annotations

import json
from datetime import timedelta

from dashboard.extensions import db
from dashboard.models import Message, Report, utcnow

from .pages_support import HTMX, XSS_CONTENT, XSS_REASON, audit_rows, csrf_token


def report_state(app, report_id):  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.get(Report, report_id).state


def setup_reports(factory):  # type: ignore[no-untyped-def]
    author = factory.user(username="author")
    reporter = factory.user(username="reporter")
    t = factory.thread(author, [reporter])
    msg = factory.message(t, author, XSS_CONTENT, at=utcnow() - timedelta(hours=3))
    first = factory.report(msg, reporter, XSS_REASON)
    second = factory.report(msg, factory.user(), "offensive")
    other = factory.report(factory.message(t, author, "meh"), reporter, "boring")
    return msg, first, second, other


def test_queue_lists_open_reports_oldest_first_escaped(app, client, factory, login_as):
    _msg, first, _second, other = setup_reports(factory)
    login_as("moderator")
    html = client.get("/dashboard/reports").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#34;m&#34;)&lt;/script&gt;" in html
    assert "&lt;script&gt;alert(&#39;r&#39;)&lt;/script&gt;" in html
    assert "<script>alert" not in html and "<b onclick" not in html
    assert html.index(f'id="report-{first.id}"') < html.index(f'id="report-{other.id}"')
    assert ">reporter</a>" in html and "just now" in html
    assert 'hx-trigger="live:report delay:500ms from:body"' in html


def test_dismiss_removes_the_row_with_a_toast_and_is_audited(app, client, factory, login_as):
    _msg, first, second, _other = setup_reports(factory)
    mod = login_as("moderator")
    resp = client.post(
        f"/dashboard/reports/{first.id}/resolve",
        data={"action": "dismiss", "note": "not spam", "csrf_token": csrf_token(client)},
        headers=HTMX,
    )
    assert resp.status_code == 200 and resp.get_data(as_text=True) == ""  # the row goes away
    assert json.loads(resp.headers["HX-Trigger"]) == {"toast": "Report dismissed."}
    assert report_state(app, first.id) == "dismissed"
    assert report_state(app, second.id) == "open"
    (row,) = audit_rows(app, action="report.dismiss")
    assert (row.actor_id, row.target_id, row.reason) == (mod.id, first.id, "not spam")
    html = client.get("/dashboard/reports").get_data(as_text=True)
    assert f'id="report-{first.id}"' not in html and f'id="report-{second.id}"' in html
    again = client.post(
        f"/dashboard/reports/{first.id}/resolve",
        data={"action": "dismiss", "note": "twice", "csrf_token": csrf_token(client)},
        headers=HTMX,
    )
    assert again.status_code == 409
    assert len(audit_rows(app, action="report.dismiss")) == 1


def test_hide_hides_the_message_and_closes_every_report_of_it(app, client, factory, login_as):
    msg, first, second, other = setup_reports(factory)
    mod = login_as("moderator")
    resp = client.post(
        f"/dashboard/reports/{first.id}/resolve",
        data={"action": "hide", "note": "abusive", "csrf_token": csrf_token(client)},
        headers=HTMX,
    )
    assert resp.status_code == 200 and "Message hidden" in resp.headers["HX-Trigger"]
    with app.app_context():
        stored = db.session.get(Message, msg.id)
        assert stored.hidden_at is not None and stored.hidden_reason == "abusive"
        assert stored.hidden_by_id == mod.id
    assert report_state(app, first.id) == report_state(app, second.id) == "actioned"
    assert report_state(app, other.id) == "open"
    rows = audit_rows(app, action="report.action")
    assert sorted(r.target_id for r in rows) == sorted([first.id, second.id])
    assert [r.target_id for r in audit_rows(app, action="message.hide")] == [msg.id]


def test_resolve_needs_a_reason_and_a_known_action(app, client, factory, login_as):
    msg, first, *_ = setup_reports(factory)
    login_as("moderator")
    token = csrf_token(client)
    resp = client.post(
        f"/dashboard/reports/{first.id}/resolve",
        data={"action": "hide", "note": " ", "csrf_token": token},
        headers=HTMX,
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Give a reason." in body
    assert f'id="report-{first.id}"' in body and 'aria-invalid="true"' in body  # row re-rendered
    resp = client.post(
        f"/dashboard/reports/{first.id}/resolve",
        data={"action": "delete-everything", "note": "x", "csrf_token": token},
        headers=HTMX,
    )
    assert resp.status_code == 422
    assert report_state(app, first.id) == "open"
    with app.app_context():
        assert db.session.get(Message, msg.id).hidden_at is None
    assert audit_rows(app) == []


def test_empty_queue_says_so(client, login_as):
    login_as("support")
    assert "No open reports." in client.get("/dashboard/reports").get_data(as_text=True)


def test_queue_queries_do_not_grow_with_the_page(app, client, factory, login_as, monkeypatch):
    from dashboard.services import reports as reports_service

    from .pages_support import count_queries

    login_as("moderator")
    author, reporter = factory.user(), factory.user()
    t = factory.thread(author, [reporter])
    for n in range(12):
        factory.report(factory.message(t, factory.user(), f"m{n}"), factory.user(), f"r{n}")
    counts = {}
    for size in (2, 12):
        monkeypatch.setattr(reports_service, "PAGE_SIZE", size)
        n, resp = count_queries(app, lambda: client.get("/dashboard/reports"))
        assert resp.status_code == 200
        assert resp.get_data(as_text=True).count('class="resolve-form"') == size
        counts[size] = n
    assert counts[2] == counts[12], counts
