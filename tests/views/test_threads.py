"""The threads pages through HTTP: list, filters, htmx partials, bulk archive, thread view."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from dashboard.extensions import db
from dashboard.models import AuditLog, Message, Thread
from dashboard.views.dashboard import threads as threads_view
from tests.conftest import get_csrf

T0 = datetime(2026, 10, 1, 12, 0, 0)
HX = {"HX-Request": "true"}
XSS = "<script>alert(1)</script>"


def _row_ids(html: str) -> list[str]:
    return re.findall(r'<tr id="t-([^"]+)"', html)


def _more_url(html: str) -> str | None:
    m = re.search(r'id="load-more".*?hx-get="([^"]+)"', html, re.S)
    return m.group(1).replace("&amp;", "&") if m else None


def test_list_filters_and_partial(client, login_as, factory):
    mod = login_as("moderator")
    alice = factory.user(username="alice")
    factory.thread(alice, [mod], title="Refund " + XSS, at=T0)
    factory.thread(mod, title="Other", at=T0 + timedelta(days=1))
    factory.thread(mod, title="Old refund", at=T0, is_archived=True)
    page = client.get("/dashboard/threads")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html
    assert "Refund &lt;script&gt;alert(1)&lt;/script&gt;" in html and XSS not in html
    assert 'hx-push-url="true"' in html and 'name="csrf_token"' in html
    resp = client.get("/dashboard/threads?q=refund&participant=alice", headers=HX)
    part = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in part and "<form" not in part
    assert len(_row_ids(part)) == 1 and "Refund &lt;script&gt;" in part
    archived = client.get("/dashboard/threads?state=archived", headers=HX).get_data(as_text=True)
    assert "Old refund" in archived and "Other" not in archived
    empty = client.get("/dashboard/threads?creator=alice&state=archived", headers=HX)
    assert "No threads match these filters" in empty.get_data(as_text=True)


def test_bad_filter_is_an_inline_error(client, login_as):
    login_as("support")
    resp = client.get("/dashboard/threads?created_from=yesterday&state=weird")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Use a date such as" in html and 'aria-invalid="true"' in html
    bad = client.get("/dashboard/threads?cursor=%%%", headers=HX)
    assert bad.status_code == 422 and "not valid" in bad.get_data(as_text=True)


def test_load_more_follows_the_cursor(client, login_as, factory, monkeypatch):
    monkeypatch.setattr(threads_view, "PAGE_SIZE", 4)
    mod = login_as("moderator")
    made = {factory.thread(mod, at=T0 + timedelta(minutes=i // 2)).id for i in range(10)}
    seen: list[str] = []
    html = client.get("/dashboard/threads?sort=created").get_data(as_text=True)
    seen += _row_ids(html)
    url = _more_url(html)
    assert "sort=created" in url
    while url:
        resp = client.get(url, headers=HX)
        html = resp.get_data(as_text=True)
        assert 'hx-trigger="click, revealed"' in html or _more_url(html) is None
        seen += _row_ids(html)
        url = _more_url(html)
    assert len(seen) == len(set(seen)) == 10 and set(seen) == made


def test_bulk_archive_confirm_then_act(app, client, login_as, factory):
    mod = login_as("moderator")
    threads = [factory.thread(mod, title=f"Bulk {i}") for i in range(5)]
    ids = [t.id for t in threads[:3]]
    token = get_csrf(client, "/dashboard/threads")
    # Empty reason: an inline error, 422, nothing changes.
    resp = client.post(
        "/dashboard/threads/bulk",
        data={"csrf_token": token, "action": "archive", "ids": ids, "reason": " ", "confirm": "1"},
        headers=HX,
    )
    assert resp.status_code == 422 and "Give a reason" in resp.get_data(as_text=True)
    # Step one: the confirm fragment, nothing changed yet.
    resp = client.post(
        "/dashboard/threads/bulk",
        data={
            "csrf_token": token,
            "action": "archive",
            "ids": ids,
            "reason": "spam wave",
            "state": "active",
        },
        headers=HX,
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Confirm: archive 3 threads" in html
    assert html.count('name="ids"') == 3
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).where(Thread.is_archived)) == 0
    # Step two: confirmed.
    resp = client.post(
        "/dashboard/threads/bulk",
        data={
            "csrf_token": token,
            "action": "archive",
            "ids": ids,
            "reason": "spam wave",
            "confirm": "1",
            "state": "active",
        },
        headers=HX,
    )
    assert resp.status_code == 200
    trigger = json.loads(resp.headers["HX-Trigger"])
    assert trigger["toast"] == "Archived 3 threads"
    rows = _row_ids(resp.get_data(as_text=True))
    assert sorted(rows) == sorted(t.id for t in threads[3:])  # the active list, refreshed
    archived = client.get("/dashboard/threads?state=archived").get_data(as_text=True)
    assert sorted(_row_ids(archived)) == sorted(ids)
    with app.app_context():
        audit = db.session.scalars(sa.select(AuditLog)).all()
        assert sorted(a.target_id for a in audit) == sorted(ids)
        assert {(a.action, a.reason) for a in audit} == {("thread.archive", "spam wave")}


def test_bulk_without_htmx_redirects(client, login_as, factory):
    mod = login_as("moderator")
    t = factory.thread(mod)
    token = get_csrf(client, "/dashboard/threads")
    confirm = client.post(
        "/dashboard/threads/bulk",
        data={"csrf_token": token, "action": "archive", "ids": [t.id], "reason": "r"},
    )
    assert confirm.status_code == 200 and "Confirm: archive 1 thread" in confirm.get_data(
        as_text=True
    )
    done = client.post(
        "/dashboard/threads/bulk",
        data={
            "csrf_token": token,
            "action": "archive",
            "ids": [t.id],
            "reason": "r",
            "confirm": "1",
        },
    )
    assert done.status_code == 303
    assert "Archived 1 thread" in client.get(done.location).get_data(as_text=True)


def test_thread_page(client, login_as, factory):
    mod = login_as("moderator")
    ann = factory.user(username="ann" + XSS)
    t = factory.thread(ann, [mod], title="Help " + XSS)
    root = factory.message(t, ann, f"hi @{mod.username} <b>bold</b>", mentions=(mod,), at=T0)
    other = factory.message(t, mod, "unrelated", at=T0 + timedelta(minutes=1))
    reply = factory.message(t, mod, "a reply", parent_id=root.id, at=T0 + timedelta(minutes=2))
    factory.attachment(
        root, ann, type="image", url="/api/v1/uploads/x", mime_type="image/png", size=2048
    )
    factory.attachment(
        root,
        ann,
        type="file",
        url="/api/v1/uploads/y",
        size=5 * 1024 * 1024,
        original_name="report.pdf",
    )
    factory.attachment(other, ann, type="link", url="javascript:alert(1)")
    resp = client.get(f"/dashboard/threads/{t.id}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Help &lt;script&gt;" in html and XSS not in html and "<b>bold" not in html
    assert f'<mark class="mention">@{mod.username}</mark>' in html
    # The reply sits inside its parent's element, after the parent's body.
    root_start = html.index(f'id="m-{root.id}"')
    other_start = html.index(f'id="m-{other.id}"')
    assert root_start < html.index(f'id="m-{reply.id}"') < other_start
    assert '<img src="/api/v1/uploads/x"' in html and "5.2 MB" in html
    assert 'href="javascript:' not in html
    assert "presence-dot" in html and "Hide…" in html and "Archive thread…" in html


def test_thread_page_around_and_load_earlier(client, login_as, factory, monkeypatch):
    monkeypatch.setattr(threads_view, "MESSAGE_PAGE_SIZE", 4)
    mod = login_as("support")
    t = factory.thread(mod)
    msgs = [factory.message(t, mod, f"n{i}", at=T0 + timedelta(minutes=i)) for i in range(10)]
    html = client.get(f"/dashboard/threads/{t.id}").get_data(as_text=True)
    assert [f"m-{m.id}" for m in msgs[6:]] == re.findall(r'id="(m-[^"]+)"', html)
    assert "Load earlier messages" in html
    part = client.get(f"/dashboard/threads/{t.id}?before={msgs[6].id}", headers=HX)
    ids = re.findall(r'id="m-([^"]+)"', part.get_data(as_text=True))
    assert ids == [m.id for m in msgs[2:6]] and "<html" not in part.get_data(as_text=True)
    target = msgs[1].id
    html = client.get(f"/dashboard/threads/{t.id}?around={target}").get_data(as_text=True)
    assert re.search(rf'id="m-{target}" class="message is-target', html)
    assert "Load later messages" in html
    assert client.get(f"/dashboard/threads/{t.id}?around=nope").status_code == 404


def test_missing_thread_is_a_404_page(client, login_as):
    login_as("support")
    resp = client.get("/dashboard/threads/does-not-exist")
    assert resp.status_code == 404 and "<html" in resp.get_data(as_text=True)


def test_hide_and_restore_through_the_page(app, client, login_as, factory):
    mod = login_as("moderator")
    t = factory.thread(mod)
    m = factory.message(t, mod, "nasty words")
    token = get_csrf(client, f"/dashboard/threads/{t.id}")
    bad = client.post(
        f"/dashboard/messages/{m.id}/hide", data={"csrf_token": token, "reason": ""}, headers=HX
    )
    assert bad.status_code == 422 and "Give a reason" in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Message, m.id).hidden_at is None
    resp = client.post(
        f"/dashboard/messages/{m.id}/hide",
        data={"csrf_token": token, "reason": "insults"},
        headers=HX,
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and f'id="mb-{m.id}"' in html
    assert "Hidden by" in html and "insults" in html
    assert json.loads(resp.headers["HX-Trigger"])["toast"] == "Message hidden"
    page = client.get(f"/dashboard/threads/{t.id}").get_data(as_text=True)
    assert "badge-hidden" in page and "Restore…" in page
    resp = client.post(
        f"/dashboard/messages/{m.id}/restore", data={"csrf_token": token, "reason": "ok after all"}
    )
    assert resp.status_code == 303
    with app.app_context():
        assert db.session.get(Message, m.id).hidden_at is None
        actions = db.session.scalars(sa.select(AuditLog.action).order_by(AuditLog.id)).all()
        assert actions == ["message.hide", "message.restore"]


def test_archive_one_thread(app, client, login_as, factory):
    mod = login_as("admin")
    t = factory.thread(mod)
    token = get_csrf(client, f"/dashboard/threads/{t.id}")
    bad = client.post(f"/dashboard/threads/{t.id}/archive", data={"csrf_token": token}, headers=HX)
    assert bad.status_code == 422 and 'id="archive-error"' in bad.get_data(as_text=True)
    resp = client.post(
        f"/dashboard/threads/{t.id}/archive",
        data={"csrf_token": token, "reason": "resolved"},
        headers=HX,
    )
    assert resp.status_code == 200 and "Unarchive thread…" in resp.get_data(as_text=True)
    assert json.loads(resp.headers["HX-Trigger"]) == {"toast": "Thread archived"}
    resp = client.post(
        f"/dashboard/threads/{t.id}/unarchive", data={"csrf_token": token, "reason": "reopened"}
    )
    assert resp.status_code == 303
    with app.app_context():
        assert db.session.get(Thread, t.id).is_archived is False
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) == 2
    assert (
        client.post(
            "/dashboard/threads/nope/archive", data={"csrf_token": token, "reason": "x"}
        ).status_code
        == 404
    )


def test_export_is_streamed(app, client, login_as, factory):
    mod = login_as("moderator")
    t = factory.thread(mod, title="Exported")
    for i in range(3):
        factory.message(t, mod, f"line {i}")
    token = get_csrf(client, f"/dashboard/threads/{t.id}")
    resp = client.post(
        f"/dashboard/threads/{t.id}/export",
        data={"csrf_token": token, "format": "json"},
        buffered=False,
    )
    assert resp.status_code == 200 and resp.is_streamed
    assert resp.headers["Content-Disposition"] == f'attachment; filename="thread-{t.id}.json"'
    doc = json.loads(b"".join(resp.response).decode())
    resp.close()
    assert doc["thread"]["title"] == "Exported" and len(doc["messages"]) == 3
    resp = client.post(
        f"/dashboard/threads/{t.id}/export",
        data={"csrf_token": token, "format": "csv"},
        buffered=False,
    )
    assert resp.is_streamed and resp.mimetype == "text/csv"
    text = b"".join(resp.response).decode()
    resp.close()
    assert text.splitlines()[0].startswith("id,created_at,updated_at,user_id,username")
    assert len(text.strip().splitlines()) == 4
    with app.app_context():
        assert (
            db.session.scalar(sa.select(sa.func.count()).where(AuditLog.action == "thread.export"))
            == 2
        )


def _count_statements(app, fn):
    statements: list[str] = []

    def on_execute(conn, cursor, statement, params, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", on_execute)
    try:
        fn()
    finally:
        sa.event.remove(engine, "before_cursor_execute", on_execute)
    return statements


@pytest.mark.parametrize("what", ["list", "thread"])
def test_query_count_does_not_grow_with_page_size(
    app, client, login_as, factory, monkeypatch, what
):
    mod = login_as("moderator")
    users = [factory.user() for _ in range(4)]
    threads = [factory.thread(users[i % 4], [users[(i + 1) % 4], mod]) for i in range(55)]
    big = threads[0]
    for i in range(55):
        m = factory.message(big, users[i % 4], f"@{users[0].username} hi", mentions=(users[0],))
        if i % 5 == 0:
            factory.attachment(m, users[i % 4])
    url = "/dashboard/threads" if what == "list" else f"/dashboard/threads/{big.id}"
    counts = {}
    for size in (5, 50):
        monkeypatch.setattr(threads_view, "PAGE_SIZE", size)
        monkeypatch.setattr(threads_view, "MESSAGE_PAGE_SIZE", size)
        holder: dict = {}
        stmts = _count_statements(app, lambda h=holder: h.setdefault("r", client.get(url)))
        assert holder["r"].status_code == 200
        html = holder["r"].get_data(as_text=True)
        shown = len(_row_ids(html)) if what == "list" else html.count('class="message-main')
        assert shown == size
        counts[size] = len(stmts)
    print(f"query count {what}: {counts}")
    assert counts[5] == counts[50]


def test_filter_dates_are_utc_days():
    filters, errors, _ = threads_view.parse_filters(
        {
            "created_from": "2026-11-01",
            "created_to": "2026-11-03",
            "active_from": "2026-11-26T10:00:00+02:00",
            "state": "all",
        }
    )
    assert errors == {}
    assert filters.created_from == datetime(2026, 11, 1)
    assert filters.created_to == datetime(2026, 11, 4)  # the "to" day is included
    assert filters.active_from == datetime(2026, 11, 26, 8, 0)
    _, errors, _ = threads_view.parse_filters({"active_to": "26/11/2026", "sort": "x"})
    assert set(errors) == {"active_to", "sort"}


def test_participants_partial_shows_presence(client, login_as, factory):
    from dashboard.services import presence

    login_as("support")
    on = factory.user(username="online_olga")
    off = factory.user(username="offline_otto")
    t = factory.thread(on, [off])
    presence.connect(on.id, "test-sid")
    try:
        resp = client.get(f"/dashboard/threads/{t.id}?part=participants", headers=HX)
    finally:
        presence.disconnect(on.id, "test-sid")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert html.strip().startswith('<ul id="thread-participants"')
    olga = html[html.index("online_olga") - 200 : html.index("online_olga")]
    otto = html[html.index("offline_otto") - 200 : html.index("offline_otto")]
    assert "presence-dot is-online" in olga and "presence-dot is-offline" in otto
    assert 'hx-trigger="live:presence delay:500ms from:body"' in html
