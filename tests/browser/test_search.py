"""A support user searches with operators, sees highlights, and opens the message in its thread."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from tests.conftest import TEST_PASSWORD, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]


def test_support_user_searches_and_opens_the_message(app, page, live_server, factory):
    support = factory.user(role="support", username="sam", password=TEST_PASSWORD)
    alice = factory.user(username="alice")
    bob = factory.user(username="bob")
    billing = factory.thread(alice, [bob], title="Billing <b>help</b>", name="billing")
    other = factory.thread(bob, [alice], title="Elsewhere")
    factory.message(billing, alice, "Where is my refund?", at=datetime(2026, 11, 20, 9, 0))
    target = factory.message(
        billing,
        bob,
        "Refunds go out on Fridays <script>alert(1)</script>",
        at=datetime(2026, 11, 21, 9, 0),
    )
    factory.message(other, bob, "refund elsewhere", at=datetime(2026, 11, 22, 9, 0))

    page.goto(f"{live_server.url}/login")
    page.fill("input[name=username]", support.username)
    page.fill("input[name=password]", TEST_PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.goto(f"{live_server.url}/dashboard/search")

    page.locator("#search-q").press_sequentially("refunds from:bob in:billing", delay=20)
    hits = page.locator(".search-hit")
    hits.first.wait_for()
    page.wait_for_function("document.querySelectorAll('.search-hit').length === 1")
    assert page.locator(".search-total").inner_text() == "1 result"
    assert page.locator(".search-hit mark").first.inner_text() == "Refunds"
    assert "<script>" in page.locator(".search-snippet").inner_text()  # shown as text
    assert page.locator(".search-thread").inner_text() == "Billing <b>help</b>"
    assert re.search(r"q=refunds", page.url)  # the URL was pushed: bookmarkable
    screenshot(page, "search-results")

    page.locator(".search-link").first.click()
    page.wait_for_url(re.compile(rf"/dashboard/threads/{billing.id}\?around={target.id}"))
    assert page.url.endswith(f"#m-{target.id}")
    item = page.locator(f"#m-{target.id}")
    assert "is-target" in (item.get_attribute("class") or "")
    assert "Refunds go out on Fridays" in item.inner_text()
    screenshot(page, "search-opened-message")
