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
