"""A moderator and a support user drive the threads pages in a real Chromium.

The seeded titles, usernames and messages carry script payloads: the `page` fixture fails the
test if any JavaScript dialog fires, and the payloads must show as text.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from dashboard.extensions import db
from dashboard.models import AuditLog, Message, Thread
from dashboard.views.dashboard import threads as threads_view
from tests.conftest import TEST_PASSWORD, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
T0 = datetime(2026, 11, 20, 9, 0, 0)


@pytest.fixture
def seeded(factory):
    """A moderator, a support user, hostile names and threads with messages."""
    mod = factory.user(role="moderator", password=TEST_PASSWORD, username="mod_mia")
    support = factory.user(role="support", password=TEST_PASSWORD, username="sup_sam")
    evil = factory.user(username=f"eve{SCRIPT}")
    imgy = factory.user(username=f"ivy{IMG}")
    invoices = [
        factory.thread(evil, [imgy], title=f"Invoice {i} {SCRIPT}", at=T0 + timedelta(hours=i))
        for i in range(4)
    ]
    others = [
        factory.thread(imgy, [evil], title=f"Other {i} {IMG}", at=T0 + timedelta(hours=10 + i))
        for i in range(3)
    ]
    target = invoices[0]
    first = factory.message(target, evil, f"hello {SCRIPT} from eve", at=T0 + timedelta(days=1))
    factory.message(
        target,
        imgy,
        f"@{evil.username} look {IMG}",
        mentions=(evil,),
        parent_id=first.id,
        at=T0 + timedelta(days=1, minutes=1),
    )
    rude = factory.message(target, evil, "you are all idiots", at=T0 + timedelta(days=1, minutes=2))
    factory.attachment(first, evil, url="https://example.com/spec.pdf")
    return {
        "mod": mod,
        "support": support,
        "invoices": invoices,
        "others": others,
        "target": target,
        "rude": rude,
    }


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/dashboard/?$"))


def _rows(page):
    return page.locator("#thread-rows tr[id^='t-']")


def test_moderator_archives_hides_and_sees_the_audit(app, live_server, page, seeded):
    base = live_server.url
    csp_errors: list[str] = []
    page.on(
        "console",
        lambda msg: csp_errors.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    _login(page, base, "mod_mia")
    page.goto(f"{base}/dashboard/threads")
    assert _rows(page).count() == 7
    # Hostile titles are text.
    assert page.get_by_role("link", name=f"Invoice 0 {SCRIPT}").count() == 1
    assert page.get_by_text(f"Other 0 {IMG}").count() == 1
    screenshot(page, "threads")

    # Filter by title: the URL follows (bookmarkable).
    page.get_by_label("Title contains").fill("invoice")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r".*q=invoice.*"))
    assert page.url == f"{base}/dashboard/threads?q=invoice"  # no empty filters in the URL
    page.wait_for_function("document.querySelectorAll('#thread-rows tr[id^=t-]').length === 4")

    # Select three, give a reason, review, confirm.
    chosen = seeded["invoices"][1:]
    for t in chosen:
        page.locator(f"#t-{t.id} input.row-check").check()
    assert page.locator("#selected-count").inner_text() == "3 selected"
    page.get_by_label("Reason", exact=True).fill("duplicate invoices")
    page.get_by_role("button", name="Review…").click()
    confirm = page.get_by_role("button", name="Confirm: archive 3 threads")
    confirm.wait_for()
    assert page.locator("#bulk-panel q").inner_text() == "duplicate invoices"
    screenshot(page, "threads-bulk-confirm")
    confirm.click()
    page.locator(".toast", has_text="Archived 3 threads").wait_for()
    page.wait_for_function("document.querySelectorAll('#thread-rows tr[id^=t-]').length === 1")

    # They are under "archived"; the bulk action turns to "unarchive" there.
    page.get_by_label("State").select_option("archived")
    assert page.locator("#bulk-action").input_value() == "unarchive"
    page.wait_for_url(re.compile(r".*state=archived.*"))
    page.wait_for_function("document.querySelectorAll('#thread-rows tr[id^=t-]').length === 3")
    shown = {rid[2:] for rid in _rows(page).evaluate_all("rows => rows.map(r => r.id)")}
    assert shown == {t.id for t in chosen}
    screenshot(page, "threads-archived")

    # Open the thread still active and hide a message with a reason.
    page.goto(f"{base}/dashboard/threads?q=invoice")
    target = seeded["target"]
    page.get_by_role("link", name=f"Invoice 0 {SCRIPT}").click()
    page.wait_for_url(f"{base}/dashboard/threads/{target.id}")
    assert page.locator(".content", has_text=f"hello {SCRIPT} from eve").count() == 1
    assert page.locator("mark.mention").first.inner_text() == f"@eve{SCRIPT}"
    rude = seeded["rude"]
    body = page.locator(f"#mb-{rude.id}")
    # An empty reason is refused inline, nothing changes.
    body.locator("summary", has_text="Hide…").click()
    body.get_by_role("button", name="Hide message").click()
    page.locator(f"#mb-{rude.id} .field-error", has_text="Give a reason").wait_for()
    page.locator(f"#mb-{rude.id}").get_by_label("Reason for hiding").fill("insults")
    page.locator(f"#mb-{rude.id}").get_by_role("button", name="Hide message").click()
    page.locator(f"#mb-{rude.id} .badge-hidden", has_text="insults").wait_for()
    page.locator(".toast", has_text="Message hidden").wait_for()
    screenshot(page, "thread")

    with app.app_context():
        assert db.session.get(Message, rude.id).hidden_reason == "insults"
        rows = db.session.scalars(sa.select(AuditLog)).all()
        assert sorted((r.action, r.target_id, r.reason) for r in rows) == sorted(
            [("thread.archive", t.id, "duplicate invoices") for t in chosen]
            + [("message.hide", rude.id, "insults")]
        )

    # The audit page shows the rows, each target by its title or excerpt, linked (issue 13).
    page.goto(f"{base}/dashboard/audit")
    for t in chosen:
        link = page.locator(f'a[href="/dashboard/threads/{t.id}"]', has_text=t.title)
        page.locator("tr", has=link).filter(has_text="thread.archive").wait_for()
    page.locator("tr", has=page.locator(f'a[href*="around={rude.id}"]')).filter(
        has_text="message.hide"
    ).wait_for()
    assert page.locator("tr", has_text="duplicate invoices").count() == 3
    screenshot(page, "audit-after-moderation")
    assert csp_errors == []  # no inline script or style was refused


def test_support_sees_pages_without_controls_and_cannot_forge(app, live_server, page, seeded):
    base = live_server.url
    _login(page, base, "sup_sam")
    page.goto(f"{base}/dashboard/threads")
    assert _rows(page).count() == 7
    assert page.locator("input.row-check").count() == 0
    assert page.locator("#bulk-form").count() == 0
    target, rude = seeded["target"], seeded["rude"]
    page.goto(f"{base}/dashboard/threads/{target.id}")
    assert page.locator(f"#m-{rude.id}").count() == 1
    assert page.get_by_text("Hide…").count() == 0
    assert page.get_by_text("Archive thread…").count() == 0
    assert page.locator("form.export-form").count() == 0
    screenshot(page, "thread-support")

    # A forged POST from this session, with a valid CSRF token: 403, nothing changes.
    headers = json.loads(page.locator("body").get_attribute("hx-headers"))
    token = headers["X-CSRFToken"]
    forged = [
        (f"/dashboard/threads/{target.id}/archive", {"reason": "forged"}),
        (f"/dashboard/messages/{rude.id}/hide", {"reason": "forged"}),
        (
            "/dashboard/threads/bulk",
            {"ids": target.id, "action": "archive", "reason": "forged", "confirm": "1"},
        ),
        (f"/dashboard/threads/{target.id}/export", {"format": "json"}),
    ]
    for path, form in forged:
        resp = page.request.post(
            f"{base}{path}", form={**form, "csrf_token": token}, headers={"X-CSRFToken": token}
        )
        assert resp.status == 403, path
    with app.app_context():
        assert db.session.get(Thread, target.id).is_archived is False
        assert db.session.get(Message, rude.id).hidden_at is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) == 0


def test_thread_list_on_a_phone(live_server, page, seeded):
    base = live_server.url
    _login(page, base, "mod_mia")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/dashboard/threads")
    # The page itself does not scroll sideways; the table scrolls inside its box.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    box = page.locator(".table-scroll")
    assert box.evaluate("el => el.scrollWidth > el.clientWidth")
    screenshot(page, "threads-390")
    page.goto(f"{base}/dashboard/threads/{seeded['target'].id}")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
    screenshot(page, "thread-390")


def test_load_more_when_scrolled_into_view(live_server, page, seeded, monkeypatch):
    monkeypatch.setattr(threads_view, "PAGE_SIZE", 2)  # the server runs in this process
    base = live_server.url
    _login(page, base, "sup_sam")
    first = page.request.get(f"{base}/dashboard/threads").text()
    assert first.count('<tr id="t-') == 2 and 'id="load-more"' in first
    page.goto(f"{base}/dashboard/threads")
    # Each "Load more" row loads the next page as soon as it is revealed, until the end.
    page.wait_for_function(
        """() => {
            window.scrollTo(0, document.body.scrollHeight);
            return document.querySelectorAll('#thread-rows tr[id^=t-]').length === 7;
        }"""
    )
    page.wait_for_function("!document.getElementById('load-more')")
    ids = _rows(page).evaluate_all("rows => rows.map(r => r.id)")
    assert len(ids) == len(set(ids)) == 7
