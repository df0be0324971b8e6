"""Error pages in the dashboard's style, and hostile text shown as text on every page."""

from __future__ import annotations

import re

from dashboard.services import presence

from .pages_support import HTMX, XSS_CONTENT, XSS_REASON, XSS_TITLE, XSS_USER, csrf_token


def test_404_page_and_fragment(client, login_as):
    login_as("support")
    resp = client.get("/dashboard/users/does-not-exist")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 404
    assert "Not found" in html and "Back to the dashboard" in html and "app.css" in html
    resp = client.get("/dashboard/nothing-here")
    assert resp.status_code == 404 and "Not found" in resp.get_data(as_text=True)
    resp = client.get("/dashboard/users/does-not-exist", headers=HTMX)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 404 and "<html" not in body and "error-fragment" in body


def test_403_page_for_a_plain_user(client, login_as):
    login_as("user")
    resp = client.get("/dashboard/")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 403
    assert "Not allowed" in html and "You do not have access to this." in html
    assert "Back to the start" in html  # not a dashboard link for someone without access


def test_500_page_in_the_same_style(app, client, login_as, monkeypatch):
    login_as("support")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    from dashboard.services import stats

    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("kaput")

    monkeypatch.setattr(stats, "overview_counts", boom)
    resp = client.get("/dashboard/")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 500
    assert "Something broke" in html and "kaput" not in html and "app.css" in html


def test_hostile_text_is_escaped_on_every_page(app, client, factory, login_as):
    """Usernames, names, titles, content and reasons holding markup show as text everywhere."""
    evil = factory.user(username=XSS_USER, first_name=XSS_USER, last_name=XSS_TITLE)
    other = factory.user()
    thread = factory.thread(evil, [other], title=XSS_TITLE)
    msg = factory.message(thread, evil, XSS_CONTENT)
    factory.report(msg, other, XSS_REASON)
    presence.connect(evil.id, "sid-evil")
    try:
        login_as("admin")
        # an audit row holding hostile text too
        client.post(
            f"/dashboard/users/{other.id}/deactivate",
            data={"reason": XSS_REASON, "csrf_token": csrf_token(client)},
        )
        pages = [
            "/dashboard/",
            "/dashboard/users",
            f"/dashboard/users?q={XSS_USER}",
            f"/dashboard/users/{evil.id}",
            "/dashboard/presence",
            "/dashboard/reports",
            "/dashboard/audit",
            f"/dashboard/audit?actor={XSS_USER}",
            "/dashboard/threads",
            f"/dashboard/threads/{thread.id}",
        ]
        seen_escaped = set()
        for path in pages:
            resp = client.get(path)
            assert resp.status_code == 200, path
            html = resp.get_data(as_text=True)
            assert "<script>alert" not in html, path
            assert not re.search(r"<(img|b)\b[^>]*\bon\w+=", html), path
            if "&lt;script&gt;" in html:
                seen_escaped.add(path)
        # every page that shows a user's name, a title or content showed it escaped
        for path in pages[1:]:
            if "audit?actor" in path:
                continue
            assert path in seen_escaped, path
    finally:
        presence.reset()


def test_htmx_history_restore_gets_the_whole_page(client, login_as):
    login_as("support")
    for path in ("/dashboard/users?q=x", "/dashboard/presence", "/dashboard/reports"):
        resp = client.get(
            path,
            headers={**HTMX, "HX-History-Restore-Request": "true", "HX-Target": "user-results"},
        )
        assert resp.status_code == 200 and "<html" in resp.get_data(as_text=True), path
