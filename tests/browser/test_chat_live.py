"""static/js/live.js on a staff page: /live events become DOM events on <body>."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from dashboard.realtime import broadcast
from dashboard.services import reports as reports_service
from dashboard.services import threads as threads_service
from tests.browser.chat_steps import log_in
from tests.conftest import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

LIVE_EVENTS = ("live:presence", "live:report", "live:thread", "live:activity", "live:connected")

# An init script (runs before the page's own scripts, outside its CSP): records the DOM events
# in the capture phase on document, so even the snapshot sent right after connecting is seen.
RECORD = """
window.__live = [];
for (const n of %s) document.addEventListener(n, e => window.__live.push([n, e.detail]), true);
"""


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """A fast activity tick so the test sees one."""
    app_config["ACTIVITY_INTERVAL"] = 1
    return app_config


@pytest.fixture
def staff_page(browser: Any, live_server: Any, factory: Any) -> Iterator[Any]:
    """A support user's dashboard page with the socket.io client and live.js, as the layout has."""
    staff = factory.user(role="support", username="sam", password=TEST_PASSWORD)
    context = browser.new_context()
    context.add_init_script(RECORD % json.dumps(list(LIVE_EVENTS)))
    page = context.new_page()
    page.set_default_timeout(10_000)
    dialogs: list[str] = []
    errors: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: errors.append(str(e)))
    # The dashboard layout itself loads the socket.io client and live.js.
    log_in(page, live_server.url, staff.username, "/dashboard/")
    yield page
    context.close()
    assert not dialogs
    assert not errors, errors


def events(page: Any, name: str) -> list[Any]:
    return [d for n, d in page.evaluate("() => window.__live") if n == name]


def wait_event(page: Any, name: str, pred: Any = lambda d: True, timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for detail in events(page, name):
            if pred(detail):
                return detail
        page.wait_for_timeout(100)
    raise AssertionError(f"no {name} event matching; got {page.evaluate('() => window.__live')}")


def test_live_events_reach_the_page_as_dom_events(
    app: Flask, factory: Any, browser: Any, live_server: Any, staff_page: Any
) -> None:
    page = staff_page
    # The snapshot on connect arrives as live:presence.
    snapshot = wait_event(page, "live:presence", lambda d: "items" in d)
    assert snapshot["count"] == len(snapshot["items"])
    assert page.locator("body[data-live=connected]").count() == 1

    # A user opening the chat comes online: live:presence with their PresenceInfo.
    uma = factory.user(username="uma", password=TEST_PASSWORD)
    vic = factory.user(username="vic", password=TEST_PASSWORD)
    thread = factory.thread(uma, [vic], title="Reported")
    msg = factory.message(thread, uma, "buy cheap pills")
    chat = browser.new_context()
    cp = chat.new_page()
    log_in(cp, live_server.url, "uma")
    cp.wait_for_selector("#connection[data-state=online]", state="attached")
    online = wait_event(page, "live:presence", lambda d: d.get("userId") == uma.id)
    assert online["status"] == "online"

    # A report and a thread change, announced by the services, arrive as live:report / live:thread.
    with app.app_context():
        from dashboard.extensions import db
        from dashboard.models import User

        reports_service.report_message(db.session.get(User, vic.id), msg.id, "spam")
        broadcast.thread_event(
            "thread:updated",
            threads_service.thread_payload(threads_service.get_thread(uma.id, thread.id)),
            [uma.id, vic.id],
        )
    report = wait_event(page, "live:report")
    assert report["messageId"] == msg.id
    assert wait_event(page, "live:thread")["id"] == thread.id
    # The periodic activity figures (every second here) count the open report.
    wait_event(page, "live:activity", lambda d: d["openReports"] == 1, timeout=15)

    # Uma leaves: offline.
    chat.close()
    wait_event(
        page, "live:presence", lambda d: d.get("userId") == uma.id and d["status"] == "offline"
    )

    # The dashboard drops off the network and comes back: live.js reconnects on its own and
    # gets a fresh snapshot.
    before = len([d for d in events(page, "live:presence") if "items" in d])
    page.context.set_offline(True)
    page.wait_for_selector("body[data-live=disconnected]", timeout=60_000)
    page.context.set_offline(False)
    page.wait_for_selector("body[data-live=connected]", timeout=30_000)
    deadline = time.monotonic() + 10
    while len([d for d in events(page, "live:presence") if "items" in d]) <= before:
        assert time.monotonic() < deadline, "no new snapshot after reconnecting"
        page.wait_for_timeout(100)


def test_live_js_is_refused_quietly_for_end_users(
    browser: Any, live_server: Any, factory: Any
) -> None:
    user = factory.user(username="wes", password=TEST_PASSWORD)
    context = browser.new_context()
    context.add_init_script(RECORD % json.dumps(list(LIVE_EVENTS)))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, live_server.url, user.username)
    page.add_script_tag(url="/static/js/live.js")  # the chat page itself does not load it
    page.wait_for_timeout(1500)
    assert page.evaluate("() => window.__live") == []
    assert page.locator("body[data-live=connected]").count() == 0
    context.close()
    assert not errors, errors
