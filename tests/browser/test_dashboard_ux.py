"""Issue 13's dashboard findings, checked in a real Chromium as a person sees them.

Each test names the finding it covers: what is on screen (boxes inside the viewport, visible
names and links), what the browser sent (counted requests) and what it logged (console errors).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]


def log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/dashboard/?$"))


def count_requests(page: Any, pattern: str) -> list[str]:
    """The URLs of htmx requests matching `pattern` from now on (a live list)."""
    seen: list[str] = []

    def on_request(req: Any) -> None:
        if re.search(pattern, req.url) and req.headers.get("hx-request") == "true":
            seen.append(req.url)

    page.on("request", on_request)
    return seen


def console_errors(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


# -- 9. the threads filter form ------------------------------------------------------------


def test_threads_filters_parse_send_once_and_match_the_url_after_back(
    page: Any, live_server: Any, factory: Any
) -> None:
    """Finding 9: no htmx:syntax:error, leaving a field sends nothing new, Back restores."""
    factory.user(role="moderator", username="mo", password=TEST_PASSWORD)
    ann, ben = factory.user(username="ann"), factory.user(username="ben")
    factory.thread(ann, [ben], title="Refund for order A-1042")
    factory.thread(ben, [ann], title="Login broken")
    base = live_server.url
    log_in(page, base, "mo")
    errors = console_errors(page)
    page.goto(f"{base}/dashboard/threads")
    page.wait_for_timeout(300)
    assert errors == [], errors  # was eight htmx:syntax:error on every load

    sent = count_requests(page, r"/dashboard/threads\?")
    page.get_by_label("Title contains").fill("Refund")
    page.wait_for_url(re.compile(r"q=Refund"))
    expect(page.locator("#thread-rows tr[id^=t-]")).to_have_count(1)
    page.get_by_label("Creator (username)").focus()  # leaving the search field
    page.wait_for_timeout(900)
    assert len(sent) == 1, sent  # was two identical requests

    page.get_by_label("Creator (username)").fill("ben")
    page.get_by_label("State").focus()  # leaving a text field filters once
    page.wait_for_url(re.compile(r"creator=ben"))
    expect(page.locator("#thread-rows")).to_contain_text("No threads match")
    page.wait_for_timeout(600)
    assert len(sent) == 2, sent

    page.go_back()
    page.wait_for_url(re.compile(r"/dashboard/threads\?q=Refund$"))
    expect(page.get_by_label("Title contains")).to_have_value("Refund")
    expect(page.get_by_label("Creator (username)")).to_have_value("")
    expect(page.locator("#thread-rows tr[id^=t-]")).to_have_count(1)
    expect(page.locator("#thread-rows")).to_contain_text("Refund for order A-1042")
    page.go_back()
    page.wait_for_url(re.compile(r"/dashboard/threads$"))
    expect(page.get_by_label("Title contains")).to_have_value("")
    expect(page.locator("#thread-rows tr[id^=t-]")).to_have_count(2)
    assert errors == [], errors


# -- 10. staff on the dashboard count as online; 13. live refreshes are throttled ----------


def test_staff_with_the_dashboard_open_are_online_and_seen_live(
    page: Any, browser: Any, live_server: Any, factory: Any
) -> None:
    """Finding 10: the presence page's "open the chat or the dashboard" holds for staff."""
    factory.user(role="moderator", username="mo", password=TEST_PASSWORD)
    factory.user(role="support", username="sam", password=TEST_PASSWORD)
    base = live_server.url
    log_in(page, base, "mo")
    page.goto(f"{base}/dashboard/presence")
    online = page.locator("#presence-live .chips")
    expect(online).to_contain_text("mo", timeout=5000)  # the viewer, once the socket is up

    other = browser.new_context()
    try:
        sam = other.new_page()
        log_in(sam, base, "sam")  # sam opens the dashboard: mo's page shows them, live
        expect(online.get_by_role("link", name="sam")).to_be_visible(timeout=5000)
        expect(page.locator("#online-heading .badge")).to_have_text("2")
    finally:
        other.close()
    expect(online.get_by_role("link", name="sam")).to_have_count(0, timeout=5000)


def test_a_burst_of_presence_events_refreshes_each_live_part_once(
    app: Any, page: Any, live_server: Any, factory: Any
) -> None:
    """Finding 13: 30 presence events over 1.5 s make one re-fetch per part, not one each."""
    import time

    from dashboard.realtime import broadcast
    from dashboard.services import presence

    factory.user(role="moderator", username="mo", password=TEST_PASSWORD)
    users = [factory.user(username=f"u{i}") for i in range(30)]
    base = live_server.url
    log_in(page, base, "mo")
    page.goto(f"{base}/dashboard/presence")
    page.wait_for_selector("body[data-live=connected]")
    page.wait_for_timeout(1200)  # the viewer's own "online" refresh settles first
    presence_gets = count_requests(page, r"/dashboard/presence$")
    with app.app_context():
        for u in users:
            presence.connect(u.id, f"sid-{u.id}")
            broadcast.presence(presence.payload(u.id, True), [])
            time.sleep(0.05)
    page.wait_for_timeout(1500)
    assert 1 <= len(presence_gets) <= 2, len(presence_gets)  # was one per event
    expect(page.locator("#online-heading .badge")).to_have_text("31")

    page.goto(f"{base}/dashboard/")
    page.wait_for_selector("body[data-live=connected]")
    page.wait_for_timeout(1200)
    count_gets = count_requests(page, r"/dashboard/counts")
    with app.app_context():
        for u in users:
            presence.disconnect(u.id, f"sid-{u.id}")
            broadcast.presence(presence.payload(u.id, False), [])
            time.sleep(0.05)
    page.wait_for_timeout(1500)
    assert 1 <= len(count_gets) <= 2, len(count_gets)
    expect(page.locator("[data-count=online_now]")).to_have_text("1")


# -- 6. the reports table fits; 12. archive the reported thread from the queue -------------


def reports_data(factory: Any) -> dict[str, Any]:
    factory.user(role="moderator", username="mo", password=TEST_PASSWORD)
    ann = factory.user(username="annabelle.longname-reporter")
    ben = factory.user(username="benedict.verylongusername")
    thread = factory.thread(ann, [ben], title="Order A-1042 never arrived")
    words = "This is a rather long reported message that keeps going and going " * 3
    bad = factory.message(thread, ben, words.strip())
    factory.report(bad, ann, "Abusive language and repeated spam links " * 2)
    other = factory.thread(ben, [ann], title="Second thread")
    factory.report(factory.message(other, ben, "buy cheap watches"), ann, "spam")
    return {"thread": thread, "bad": bad, "other": other}


@pytest.mark.parametrize("width", [1280, 390])
def test_the_reports_queue_fits_the_screen(
    page: Any, live_server: Any, factory: Any, width: int
) -> None:
    """Finding 6: every report's resolve controls are inside the viewport, no sideways scroll."""
    reports_data(factory)
    log_in(page, live_server.url, "mo")
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/dashboard/reports")
    rows = page.locator("#report-rows tr[id^=report-]")
    expect(rows).to_have_count(2)
    for i in range(2):
        row = rows.nth(i)
        choice = row.get_by_label("Archive the thread")
        if choice.count():  # (the old queue had a select instead)
            choice.check()
        for control in (
            row.locator(".resolve-form"),
            row.get_by_label("Reason"),
            row.locator(".resolve-form button[type=submit]"),
            row.get_by_role("link", name="in context"),
        ):
            # scroll the page down to it, never sideways: what a person sees without panning
            control.evaluate(
                "e => window.scrollTo(0, e.getBoundingClientRect().top + scrollY - 80)"
            )
            box = control.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, (width, box)
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_archiving_a_reported_thread_takes_three_actions_and_is_audited(
    app: Any, page: Any, live_server: Any, factory: Any
) -> None:
    """Finding 12: open reports, choose "archive the thread", confirm with a reason."""
    from dashboard.extensions import db
    from dashboard.models import AuditLog, Report, Thread

    data = reports_data(factory)
    base = live_server.url
    log_in(page, base, "mo")  # the overview
    page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Reports").click()
    row = page.locator("#report-rows tr", has_text="rather long reported message")
    row.get_by_label("Archive the thread").check()  # 2: choose (focus moves to the reason)
    expect(row.get_by_label("Reason")).to_be_focused()
    page.keyboard.type("Abuse, thread closed")
    row.get_by_role("button", name="Archive the thread").click()  # 3: confirm with the reason
    page.locator(".toast", has_text="Thread archived").wait_for()
    expect(page.locator("#report-rows tr[id^=report-]")).to_have_count(1)
    with app.app_context():
        thread = db.session.get(Thread, data["thread"].id)
        assert thread.is_archived
        actions = {
            (a.action, a.target_type, a.reason) for a in db.session.scalars(db.select(AuditLog))
        }
        assert ("thread.archive", "thread", "Abuse, thread closed") in actions
        assert ("report.action", "report", "Abuse, thread closed") in actions
        states = {r.message_id: r.state for r in db.session.scalars(db.select(Report))}
        assert states[data["bad"].id] == "actioned"
        assert not db.session.get(Thread, data["other"].id).is_archived


# -- 13. smaller ones ----------------------------------------------------------------------


def test_archiving_one_thread_asks_to_confirm(
    app: Any, page: Any, live_server: Any, factory: Any
) -> None:
    """Finding 13: archiving a single thread confirms first (Cancel leaves it active)."""
    from dashboard.extensions import db
    from dashboard.models import Thread

    factory.user(role="moderator", username="mo", password=TEST_PASSWORD)
    ann, ben = factory.user(username="ann"), factory.user(username="ben")
    thread = factory.thread(ann, [ben], title="Please archive me")
    log_in(page, live_server.url, "mo")
    page.goto(f"{live_server.url}/dashboard/threads/{thread.id}")
    page.get_by_text("Archive thread…").click()
    page.get_by_label("Reason").fill("resolved")
    page.get_by_role("button", name="Archive", exact=True).click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Archive this thread?")
    dialog.get_by_role("button", name="Cancel").click()
    page.wait_for_timeout(300)
    with app.app_context():
        assert not db.session.get(Thread, thread.id).is_archived
    page.get_by_role("button", name="Archive", exact=True).click()
    dialog.get_by_role("button", name="Confirm").click()
    expect(page.locator("#thread-header .badge")).to_have_text("Archived")


def test_add_a_staff_account_is_where_an_admin_finds_it(
    page: Any, live_server: Any, factory: Any
) -> None:
    """Finding 13: the "Add a staff account" control is on screen on arrival, above the list."""
    factory.user(role="admin", username="ada", password=TEST_PASSWORD)
    for i in range(60):
        factory.user(username=f"user{i:02d}")
    log_in(page, live_server.url, "ada")
    page.goto(f"{live_server.url}/dashboard/users")
    opener = page.get_by_text("Add a staff account")
    box = opener.bounding_box()
    assert box and box["y"] + box["height"] <= 900, box  # no scrolling past 50+ rows
    opener.click()
    field = page.get_by_label("Username", exact=True)
    expect(field).to_be_visible()
    assert field.bounding_box()["y"] < 900


# -- 7. the audit log names its targets ------------------------------------------------------


def test_the_audit_log_names_and_links_its_targets(
    app: Any, page: Any, live_server: Any, factory: Any
) -> None:
    """Finding 7: a thread's title, a username, a message's excerpt, each a link."""
    from dashboard.extensions import db
    from dashboard.models import User
    from dashboard.services import moderation
    from dashboard.services import threads as threads_service
    from dashboard.services import users as users_service

    mod = factory.user(role="moderator", username="mo", password=TEST_PASSWORD)
    kim = factory.user(username="kim.jones9164")
    thread = factory.thread(kim, [], title="Refund for A-1042")
    msg = factory.message(thread, kim, "Where is my refund?")
    with app.app_context():
        actor = db.session.get(User, mod.id)
        threads_service.archive_thread(actor, thread.id, "done")
        moderation.hide_message(actor, msg.id, "rude")
        users_service.set_active(actor, kim.id, False, "spammer")
    log_in(page, live_server.url, "mo")
    page.goto(f"{live_server.url}/dashboard/audit")
    table = page.locator("#audit-results table")
    expect(table.get_by_role("link", name="Refund for A-1042")).to_be_visible()
    expect(table.get_by_role("link", name="kim.jones9164")).to_be_visible()
    expect(table.get_by_role("link", name="Where is my refund?")).to_be_visible()
    assert thread.id not in table.inner_text() and kim.id not in table.inner_text()
    table.get_by_role("link", name="Where is my refund?").click()
    page.wait_for_url(re.compile(rf"/dashboard/threads/{thread.id}\?around={msg.id}"))
    expect(page.locator(f"#m-{msg.id}")).to_be_visible()


# -- keyboard use ------------------------------------------------------------------------------


def test_dashboard_keys_search_move_open_and_help(
    page: Any, live_server: Any, factory: Any
) -> None:
    """`/` focuses search, `j`/`k` move through rows, Enter opens, `?` shows the keys."""
    factory.user(role="moderator", username="mo", password=TEST_PASSWORD)
    ann = factory.user(username="ann")
    for title in ("Alpha", "Bravo", "Charlie"):
        factory.thread(ann, [], title=title)
    base = live_server.url
    log_in(page, base, "mo")
    errors = console_errors(page)

    page.keyboard.press("/")  # the overview has no search field: the Search page opens
    page.wait_for_url(re.compile(r"/dashboard/search"))
    expect(page.locator("#search-q")).to_be_focused()

    page.goto(f"{base}/dashboard/threads")
    page.keyboard.press("/")
    expect(page.get_by_label("Title contains")).to_be_focused()
    page.keyboard.type("jk")  # typing in a field types; no row moves
    expect(page.get_by_label("Title contains")).to_have_value("jk")
    assert page.locator(".is-kbd-current").count() == 0
    page.get_by_label("Title contains").fill("")
    page.locator("h1").click()  # leave the field

    rows = page.locator("#thread-rows tr[id^=t-]")
    page.keyboard.press("j")
    expect(rows.nth(0)).to_have_class(re.compile("is-kbd-current"))
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    expect(rows.nth(1)).to_have_class(re.compile("is-kbd-current"))
    assert page.locator(".is-kbd-current").count() == 1
    name = rows.nth(1).locator("th a").inner_text()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/dashboard/threads/[^?]+$"))
    expect(page.locator("#thread-header h1")).to_contain_text(name)

    page.keyboard.press("?")
    dialog = page.locator("#keys-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Next / previous row")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert errors == [], errors


RECORD_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI + " " + e.sample));
"""


def test_the_thread_page_breaks_no_csp_rule(page: Any, live_server: Any, factory: Any) -> None:
    """Finding 13: no CSP (inline style) violation on the thread page as a moderator uses it."""
    factory.user(role="moderator", username="mo", password=TEST_PASSWORD)
    ann, ben = factory.user(username="ann"), factory.user(username="ben")
    thread = factory.thread(ann, [ben], title="Long thread")
    msgs = [factory.message(thread, ann if i % 2 else ben, f"message {i}") for i in range(120)]
    factory.attachment(msgs[60], ann, type="image", url="/static/favicon.svg")
    page.add_init_script(RECORD_CSP)
    errors = console_errors(page)
    log_in(page, live_server.url, "mo")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}/dashboard/threads/{thread.id}?around={msgs[60].id}")
        page.wait_for_selector("body[data-live=connected]")
        page.get_by_text("Load earlier messages").click()
        page.get_by_text("Load later messages").click()
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__csp") == [], width
    page.locator(".message-action summary").first.click()
    page.locator(".message-action input[name=reason]").first.fill("spam")
    page.locator(".message-action button").first.click()
    page.locator(".toast", has_text="Message hidden").wait_for()
    page.get_by_text("Archive thread…").click()
    page.get_by_label("Reason", exact=True).fill("done")
    page.get_by_role("button", name="Archive", exact=True).click()
    page.locator("#confirm-dialog").get_by_role("button", name="Confirm").click()
    expect(page.locator("#thread-header .badge")).to_have_text("Archived")
    assert page.evaluate("window.__csp") == []
    assert errors == [], errors
