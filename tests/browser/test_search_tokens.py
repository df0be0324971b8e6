"""Issue 13 findings 11 and 8 as a support user sees them on the Search page.

11: a username, an order number and their parts typed as free text find the messages (they
found nothing on PostgreSQL). 8: the search box's own example `in:billing` finds the thread
titled "Billing help" (demo threads have no name), and the warning is worded for staff.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.conftest import TEST_PASSWORD, screenshot

pytestmark = [pytest.mark.browser]


def _login_and_open_search(page, live_server, user):  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", TEST_PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.goto(f"{live_server.url}/dashboard/search")


def _search(page, query: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Type the query as a person does; the snippets of the results once they are shown."""
    box = page.locator("#search-q")
    box.fill("")
    box.press_sequentially(query, delay=10)
    page.wait_for_function(
        "q => new URLSearchParams(location.search).get('q') === q"
        " && !document.querySelector('#search-busy.htmx-request')"
        " && document.querySelector('.search-summary, .search-warnings')",
        arg=query,
    )
    page.wait_for_timeout(150)  # the swap settles
    return page.locator(".search-snippet").all_inner_texts()


def test_free_text_finds_usernames_order_numbers_and_their_parts(app, page, live_server, factory):
    support = factory.user(role="support", username="sam", password=TEST_PASSWORD)
    kim = factory.user(username="kim.jones9164")
    t = factory.thread(kim, [], title="Order trouble")
    factory.message(t, kim, "Order A-1042 was refunded", at=datetime(2026, 11, 20, 9, 0))
    factory.message(t, kim, "Order B-1042 is still open", at=datetime(2026, 11, 21, 9, 0))
    factory.message(
        t,
        kim,
        "thanks @kim.jones9164 for the logs",
        at=datetime(2026, 11, 22, 9, 0),
        mentions=(kim,),
    )
    _login_and_open_search(page, live_server, support)

    for query in ("kim.jones9164", "@kim.jones9164", '"kim.jones9164"', "jones9164"):
        assert _search(page, query) == ["thanks @kim.jones9164 for the logs"], query
        assert page.locator(".search-total").inner_text() == "1 result"
        marked = "".join(page.locator(".search-hit mark").all_inner_texts())
        assert "jones9164" in marked, (query, marked)
    screenshot(page, "search-token-username")

    assert _search(page, "A-1042") == ["Order A-1042 was refunded"]
    assert sorted(_search(page, "1042")) == [
        "Order A-1042 was refunded",
        "Order B-1042 is still open",
    ]
    screenshot(page, "search-token-order-number")


def test_in_names_a_thread_by_its_title_and_speaks_to_staff(app, page, live_server, factory):
    support = factory.user(role="support", username="sam", password=TEST_PASSWORD)
    ann = factory.user(username="ann")
    billing = factory.thread(ann, [], title="Billing help")  # no name, as in the demo
    other = factory.thread(ann, [], title="Shipping")
    factory.message(billing, ann, "Where is my refund?", at=datetime(2026, 11, 20, 9, 0))
    factory.message(other, ann, "refund for shipping", at=datetime(2026, 11, 21, 9, 0))
    _login_and_open_search(page, live_server, support)

    # The search box's own example.
    assert "in:billing" in (page.locator("#search-q").get_attribute("placeholder") or "")
    assert _search(page, "refund in:billing") == ["Where is my refund?"]
    assert page.locator(".search-total").inner_text() == "1 result"
    assert page.locator(".search-thread").inner_text() == "Billing help"
    assert page.locator(".search-warnings").count() == 0
    screenshot(page, "search-in-title")

    assert _search(page, "refund in:nowhere") == []
    assert page.locator(".search-warnings").inner_text() == (
        "No thread has the id, name or title “nowhere”."
    )
