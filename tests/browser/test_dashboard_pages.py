"""The dashboard pages in a real Chromium: support and moderator, screenshots, XSS, 390 px."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from dashboard.models import utcnow
from dashboard.services import presence
from tests.conftest import TEST_PASSWORD, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

XSS_USER = "<img src=x onerror=alert(1)>"
XSS_TITLE = "<script>alert('title')</script>"
XSS_CONTENT = "<script>alert('content')</script><img src=x onerror=alert(2)>"


@pytest.fixture
def data(factory):  # type: ignore[no-untyped-def]
    """Staff to log in as, hostile users/threads/messages, and two open reports."""
    support = factory.user(role="support", username="sam", password=TEST_PASSWORD)
    mod = factory.user(role="moderator", username="mo", password=TEST_PASSWORD)
    evil = factory.user(username=XSS_USER, first_name=XSS_TITLE)
    alice = factory.user(username="alice", first_name="Alice", last_name="Anders")
    factory.user(username="bob", last_seen_at=utcnow() - timedelta(minutes=7))
    factory.user(username="cleo", last_seen_at=utcnow() - timedelta(hours=5))
    now = utcnow()
    thread = factory.thread(evil, [alice], title=XSS_TITLE, at=now - timedelta(days=20))
    for days in range(20, -1, -1):
        for n in range(days % 5 + 1):
            factory.message(thread, alice, f"day {days} message {n}", at=now - timedelta(days=days))
    bad = factory.message(thread, evil, XSS_CONTENT, at=now - timedelta(hours=2))
    spam = factory.message(thread, evil, "Buy cheap watches", at=now - timedelta(hours=1))
    factory.report(bad, alice, XSS_TITLE)
    factory.report(spam, alice, "spam")
    return {"support": support, "mod": mod, "evil": evil, "alice": alice, "thread": thread}


def log_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/dashboard/")


def log_out(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name=re.compile("^Log out")).click()
    page.wait_for_url(re.compile(r"/login"))


def test_support_and_moderator_use_the_dashboard(page, live_server, data):
    base = live_server.url
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # --- support: every page, no action controls, no audit log -----------------------------
    log_in(page, base, "sam")
    assert page.get_by_role("heading", name="Overview").is_visible()
    assert page.locator("svg.bar-chart rect.bar").count() == 30
    assert page.locator("[data-count=open_reports]").inner_text() == "2"
    screenshot(page, "overview")

    page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Users").click()
    page.wait_for_url(f"{base}/dashboard/users")
    assert page.get_by_role("link", name=XSS_USER).count() == 1  # shown as text
    page.get_by_label("Name, username or email").fill("alic")
    page.wait_for_url(re.compile(r"/dashboard/users\?.*q=alic"))  # filters pushed to the URL
    expect(page.locator("#user-rows tr")).to_have_count(1)
    assert page.locator("#user-rows").inner_text().startswith("alice")
    screenshot(page, "users")

    page.get_by_role("link", name="alice").click()
    page.wait_for_url(re.compile(r"/dashboard/users/"))
    assert page.get_by_role("heading", name="alice").is_visible()
    assert page.get_by_text(XSS_TITLE).first.is_visible()  # the thread title, as text
    assert page.locator("form[action$='/deactivate']").count() == 0  # support: read-only
    screenshot(page, "user")

    page.goto(f"{base}/dashboard/presence")
    assert page.get_by_role("heading", name="Online now").is_visible()
    names = [r.split("\t")[0] for r in page.locator("#presence-live tbody tr").all_inner_texts()]
    assert names.index("bob") < names.index("cleo")  # most recent first (staff seen too)

    page.goto(f"{base}/dashboard/reports")
    assert page.get_by_text(XSS_CONTENT).is_visible()
    assert page.get_by_role("radio", name="Dismiss").count() == 0
    resp = page.goto(f"{base}/dashboard/audit")
    assert resp.status == 403 and page.get_by_role("heading", name="Not allowed").is_visible()
    screenshot(page, "forbidden")
    log_out(page)

    # --- moderator: resolve a report inline, see it in the audit log -------------------------
    log_in(page, base, "mo")
    page.goto(f"{base}/dashboard/reports")
    screenshot(page, "reports")
    row = page.locator("#report-rows tr", has_text="Buy cheap watches")
    row.get_by_label("Hide message").check()
    row.get_by_label("Reason").fill("advertising")  # the inline confirm step: reason, then
    row.get_by_role("button", name="Hide the message").click()
    page.locator(".toast", has_text="Message hidden").wait_for()
    assert page.locator("#report-rows tr", has_text="Buy cheap watches").count() == 0
    assert page.locator("#report-rows tr").count() == 1

    page.goto(f"{base}/dashboard/audit")
    assert page.locator("td code", has_text="report.action").is_visible()
    assert page.locator("td code", has_text="message.hide").is_visible()
    screenshot(page, "audit")
    page.get_by_label("Action").select_option("report.action")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"action=report.action"))
    expect(page.locator("td code", has_text="message.hide")).to_have_count(0)
    expect(page.locator("td code", has_text="report.action")).to_have_count(1)

    # --- moderator deactivates alice from her page: reason, confirm dialog, toast, audited ----
    page.goto(f"{base}/dashboard/users/{data['alice'].id}")
    page.get_by_label("Reason for deactivating").fill("too many complaints")
    page.get_by_role("button", name="Deactivate alice").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Confirm").click()
    page.locator(".toast", has_text="alice was deactivated").wait_for()
    assert page.get_by_role("button", name="Reactivate alice").is_visible()
    expect(page.locator("#user-badges")).to_contain_text("deactivated")  # the header, too
    screenshot(page, "user-moderator")

    # --- 390 px wide: nav wraps, tables scroll inside their box, the page does not ----------
    page.set_viewport_size({"width": 390, "height": 844})
    for name, path in (("overview-390", "/dashboard/"), ("users-390", "/dashboard/users")):
        page.goto(base + path)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways at 390 px by {overflow}px"
        screenshot(page, name)

    # --- keyboard: the skip link is the first stop and is visible when focused ---------------
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert errors == [], errors


def test_pages_refresh_on_live_events(page, live_server, data, factory):
    """live.js turns /live events into live:* events on <body>; the partials re-fetch on them."""
    base = live_server.url
    presence.reset()
    try:
        log_in(page, base, "mo")
        # the moderator on the dashboard counts as online (once the live socket is up)
        expect(page.locator("[data-count=online_now]")).to_have_text("1")
        presence.connect(data["alice"].id, "sid-a")
        presence.connect(data["evil"].id, "sid-e")
        page.evaluate("document.body.dispatchEvent(new CustomEvent('live:presence'))")
        expect(page.locator("[data-count=online_now]")).to_have_text("3")

        page.goto(f"{base}/dashboard/presence")
        expect(page.locator("#presence-live .chips li")).to_have_count(3)
        screenshot(page, "presence")
        presence.disconnect(data["evil"].id, "sid-e")
        page.evaluate("document.body.dispatchEvent(new CustomEvent('live:presence'))")
        expect(page.locator("#presence-live .chips li")).to_have_count(2)
        chips = page.locator("#presence-live .chips").inner_text().split()
        assert chips == ["alice", "mo", "moderator"]

        page.goto(f"{base}/dashboard/reports")
        assert page.locator("#report-rows tr").count() == 2
        msg = factory.message(data["thread"], data["alice"], "fresh trouble")
        factory.report(msg, data["evil"], "newly reported")
        page.evaluate("document.body.dispatchEvent(new CustomEvent('live:report'))")
        page.locator("#report-rows tr", has_text="fresh trouble").wait_for()
        assert page.locator("#report-rows tr").count() == 3
        # while a moderator types a reason, a live refresh leaves the queue alone
        fresh = page.locator("#report-rows tr", has_text="fresh trouble")
        fresh.get_by_label("Dismiss").check()
        note = fresh.get_by_label("Reason")
        note.fill("half-typed")
        factory.report(factory.message(data["thread"], data["alice"], "later"), data["evil"], "x")
        page.evaluate("document.body.dispatchEvent(new CustomEvent('live:report'))")
        page.wait_for_timeout(500)
        assert note.input_value() == "half-typed"
        assert page.locator("#report-rows tr").count() == 3
    finally:
        presence.reset()


def test_admin_sees_inline_errors_then_creates_a_staff_account(page, live_server, factory):
    """A 422 answer is swapped in place (htmx responseHandling), keyboard focus goes to it."""
    base = live_server.url
    factory.user(role="admin", username="ada", password=TEST_PASSWORD)
    factory.user(username="taken")
    log_in(page, base, "ada")
    page.goto(f"{base}/dashboard/users")
    page.get_by_text("Add a staff account").click()
    form = page.locator("#user-create")
    form.get_by_label("Username", exact=True).fill("taken")
    form.get_by_label("Email").fill("new@example.test")
    form.get_by_label("Password").fill("long enough password")
    form.get_by_label("Role").select_option("moderator")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#user-create [role=alert]")).to_have_text(
        "That username is already taken."
    )
    expect(page.locator("#new-username")).to_be_focused()  # keyboard users land on the field
    form = page.locator("#user-create")  # swapped in: find it again
    form.get_by_label("Username", exact=True).fill("newmod")
    form.get_by_label("Password").fill("long enough password")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(re.compile(r"/dashboard/users/[0-9a-f-]+$"))
    assert page.get_by_role("heading", name="newmod").is_visible()
    expect(page.locator("#user-badges")).to_contain_text("moderator")
