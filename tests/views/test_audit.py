"""The audit log page: newest first, filters by actor, action, target and time, keyset pages."""

from __future__ import annotations

import re
from datetime import datetime

from dashboard.extensions import db
from dashboard.models import AuditLog, new_id
from dashboard.services import audit

from .pages_support import HTMX


def add_entry(app, actor, action, target_type, target_id, at, reason=None):  # type: ignore[no-untyped-def]
    with app.app_context():
        db.session.add(
            AuditLog(
                id=new_id(at),
                actor_id=actor.id,
                action=action,
                target_type=target_type,
                target_id=target_id,
                reason=reason,
                details={},
                created_at=at,
            )
        )
        db.session.commit()


def reasons(html: str) -> list[str]:
    """The reason column of the audit table, top to bottom (the tests put 'r-…' there)."""
    return re.findall(r'<td class="wrap"[^>]*>(r-[^<]*)</td>', html)


def seed(app, factory):  # type: ignore[no-untyped-def]
    ann = factory.user(role="moderator", username="ann")
    bob = factory.user(role="admin", username="bob")
    add_entry(app, ann, "thread.archive", "thread", "t1", datetime(2026, 1, 5, 10), "r-1")
    add_entry(app, bob, "user.deactivate", "user", "u1", datetime(2026, 1, 6, 9), "r-2")
    add_entry(app, ann, "message.hide", "message", "m1", datetime(2026, 1, 6, 23), "r-3")
    add_entry(app, bob, "user.role", "user", "u2", datetime(2026, 1, 8, 12), "r-4")
    return ann, bob


def test_newest_first_and_every_filter(app, client, factory, login_as):
    seed(app, factory)
    login_as("moderator")

    def get(**params):  # type: ignore[no-untyped-def]
        resp = client.get("/dashboard/audit", query_string=params)
        assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
        return reasons(resp.get_data(as_text=True))

    assert get() == ["r-4", "r-3", "r-2", "r-1"]
    assert get(actor="ANN") == ["r-3", "r-1"]
    assert get(actor="nobody") == []
    assert get(action="user.role") == ["r-4"]
    assert get(target_type="user") == ["r-4", "r-2"]
    assert get(target_type="user", target_id="u1") == ["r-2"]
    assert get(since="2026-01-06", until="2026-01-06") == ["r-3", "r-2"]  # the whole day
    assert get(since="2026-01-06T12:00") == ["r-4", "r-3"]
    assert get(actor="bob", since="2026-01-07") == ["r-4"]


def test_bad_date_is_an_inline_error(client, login_as):
    login_as("moderator")
    resp = client.get("/dashboard/audit?since=yesterday")
    assert resp.status_code == 400
    assert "must be a date" in resp.get_data(as_text=True) and 'role="alert"' in resp.get_data(
        as_text=True
    )


def test_keyset_pages_keep_filters(app, client, factory, login_as, monkeypatch):
    monkeypatch.setattr(audit, "PAGE_SIZE", 2)
    seed(app, factory)
    login_as("admin")
    html = client.get("/dashboard/audit?actor=bob").get_data(as_text=True)
    seen = reasons(html)
    assert 'hx-push-url="true"' in html
    while m := re.search(r'hx-get="(/dashboard/audit\?[^"]*cursor=[^"]*)"', html):
        url = m.group(1).replace("&amp;", "&")
        assert "actor=bob" in url
        html = client.get(url, headers=HTMX).get_data(as_text=True)
        seen += reasons(html)
    assert seen == ["r-4", "r-2"]
    monkeypatch.setattr(audit, "PAGE_SIZE", 1)
    html = client.get("/dashboard/audit").get_data(as_text=True)
    seen = reasons(html)
    while m := re.search(r'hx-get="(/dashboard/audit\?[^"]*cursor=[^"]*)"', html):
        html = client.get(m.group(1).replace("&amp;", "&"), headers=HTMX).get_data(as_text=True)
        seen += reasons(html)
    assert seen == ["r-4", "r-3", "r-2", "r-1"]


def test_staff_actions_show_up_in_the_log(app, client, factory, login_as):
    target = factory.user(username="target")
    admin = login_as("admin")
    from .pages_support import csrf_token

    client.post(
        f"/dashboard/users/{target.id}/deactivate",
        data={"reason": "r-deact", "csrf_token": csrf_token(client)},
    )
    html = client.get("/dashboard/audit?action=user.deactivate").get_data(as_text=True)
    assert reasons(html) == ["r-deact"]
    assert f">{admin.username}</a>" in html
    assert f'<a href="/dashboard/users/{target.id}">target</a>' in html  # the name, linked


def test_htmx_filter_returns_just_the_results(client, login_as):
    login_as("moderator")
    resp = client.get(
        "/dashboard/audit?action=user.role", headers={**HTMX, "HX-Target": "audit-results"}
    )
    body = resp.get_data(as_text=True)
    assert "<html" not in body and body.lstrip().startswith('<div id="audit-results"')
    assert "No audit entries match these filters." in body


def test_audit_queries_do_not_grow_with_the_page(app, client, factory, login_as, monkeypatch):
    from .pages_support import count_queries

    login_as("moderator")
    for n in range(10):
        actor = factory.user(role="moderator")
        add_entry(app, actor, "user.role", "user", f"u{n}", datetime(2026, 1, 1, n), f"r-{n}")
    counts = {}
    for size in (2, 10):
        monkeypatch.setattr(audit, "PAGE_SIZE", size)
        n, resp = count_queries(app, lambda: client.get("/dashboard/audit"))
        assert len(reasons(resp.get_data(as_text=True))) == size
        counts[size] = n
    assert counts[2] == counts[10], counts


def test_targets_show_names_and_links_batch_loaded(app, client, factory, login_as, monkeypatch):
    """Issue 13, finding 7: titles, usernames and excerpts instead of raw ids, no N+1."""
    from .pages_support import count_queries

    login_as("moderator")
    mod = factory.user(role="moderator", username="mira")
    kim = factory.user(username="kim.jones9164")
    thread = factory.thread(kim, [], title="Refund for A-1042")
    msg = factory.message(thread, kim, "Where is my refund for order A-1042?")
    report = factory.report(msg, mod, "spam")
    for n in range(5):
        at = datetime(2026, 1, 1, n)
        add_entry(app, mod, "thread.archive", "thread", thread.id, at, f"r-t{n}")
        add_entry(app, mod, "user.deactivate", "user", kim.id, at, f"r-u{n}")
        add_entry(app, mod, "message.hide", "message", msg.id, at, f"r-m{n}")
        add_entry(app, mod, "report.dismiss", "report", report.id, at, f"r-r{n}")
    add_entry(app, mod, "thread.purge", "thread", "purged-id", datetime(2025, 12, 31), "r-gone")
    html = client.get("/dashboard/audit").get_data(as_text=True)
    assert f'<a href="/dashboard/threads/{thread.id}">Refund for A-1042</a>' in html
    assert f'<a href="/dashboard/users/{kim.id}">kim.jones9164</a>' in html
    around = f"/dashboard/threads/{thread.id}?around={msg.id}#m-{msg.id}"
    assert f'<a href="{around}">Where is my refund for order A-1042?</a>' in html
    assert f'<a href="{around}">report of “Where is my refund for order A-1042?”</a>' in html
    assert "thread (gone)" in html and f"thread {thread.id}" not in html
    counts = {}
    for size in (4, 21):
        monkeypatch.setattr(audit, "PAGE_SIZE", size)
        n, resp = count_queries(app, lambda: client.get("/dashboard/audit"))
        assert len(reasons(resp.get_data(as_text=True))) == size
        counts[size] = n
    assert counts[21] == counts[4], counts  # one query per target type, whatever the page


def test_file_views_and_cleanup_undos_name_their_targets(app, client, factory, login_as):
    """Issue 13, finding 7, for the newer targets: a support file view and a clean-up undo."""
    login_as("moderator")
    sam = factory.user(role="support", username="sam")
    mod = factory.user(role="moderator", username="mira")
    kim = factory.user(username="kim.jones9164")
    thread = factory.thread(kim, [], title="Refund for A-1042")
    msg = factory.message(thread, kim, "receipt attached")
    att = factory.attachment(msg, kim, type="file", url=None, original_name="receipt.txt")
    cleanup_id = new_id()
    add_entry(app, sam, "attachment.view", "attachment", att.id, datetime(2026, 1, 2), "r-a")
    with app.app_context():
        db.session.add(
            AuditLog(
                id=cleanup_id,
                actor_id=mod.id,
                action="user.cleanup",
                target_type="user",
                target_id=kim.id,
                reason="r-c",
                details={},
                created_at=datetime(2026, 1, 3),
            )
        )
        db.session.commit()
    add_entry(app, mod, "user.cleanup.undo", "cleanup", cleanup_id, datetime(2026, 1, 4), "r-u")
    html = client.get("/dashboard/audit").get_data(as_text=True)
    around = f"/dashboard/threads/{thread.id}?around={msg.id}#m-{msg.id}"
    assert f'<a href="{around}">file “receipt.txt”</a>' in html
    assert f'<a href="/dashboard/users/{kim.id}">clean-up of kim.jones9164</a>' in html
    assert "(gone)" not in html
