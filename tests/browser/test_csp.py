"""The pages work under a CSP limited to the app's own origin (no ws:/wss:/https: wildcards)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.browser.chat_steps import log_in, open_thread, wait_connected
from tests.conftest import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

FOREIGN_IMAGE = "https://images.example.test/cat.png"
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI));
"""


def open_page(browser: Any, live_server: Any, user: Any, path: str) -> tuple[Any, Any, list[str]]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.add_init_script(RECORD_VIOLATIONS)  # DevTools scripts run outside the page's CSP
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    log_in(page, live_server.url, user.username, path)
    return context, page, sockets


def test_csp_header_names_only_the_apps_own_origin(client):
    csp = client.get("/login").headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["connect-src"] == "'self'"
    assert directives["img-src"] == "'self' data:"
    for wildcard in ("ws:", "wss:", "https:", "http:", "*"):
        assert wildcard not in csp.split(), wildcard


def test_chat_socket_runs_over_websocket_and_foreign_images_show_as_links(
    app: Flask, factory: Any, browser: Any, live_server: Any
) -> None:
    ann = factory.user(username="ann", password=TEST_PASSWORD)
    ben = factory.user(username="ben", password=TEST_PASSWORD)
    thread = factory.thread(ann, [ben], title="Pictures")
    msg = factory.message(thread, ben, "look at this")
    factory.attachment(msg, ben, type="image", url=FOREIGN_IMAGE, mime_type="image/png")
    context, page, sockets = open_page(browser, live_server, ann, "/chat/")
    try:
        wait_connected(page)
        open_thread(page, "Pictures")
        link = page.locator("#messages .att-link a", has_text=FOREIGN_IMAGE)
        link.wait_for()
        assert link.get_attribute("href") == FOREIGN_IMAGE
        assert page.locator(f'img[src="{FOREIGN_IMAGE}"]').count() == 0
        host = live_server.url.removeprefix("http://")
        assert any(u.startswith(f"ws://{host}/socket.io/") for u in sockets), sockets
        assert page.evaluate("window.__csp") == []
    finally:
        context.close()


def test_dashboard_thread_page_shows_foreign_images_as_links(
    app: Flask, factory: Any, browser: Any, live_server: Any
) -> None:
    mod = factory.user(role="moderator", password=TEST_PASSWORD)
    a, b = factory.user(), factory.user()
    thread = factory.thread(a, [b], title="Dashboard pictures")
    msg = factory.message(thread, b, "a picture")
    factory.attachment(msg, b, type="image", url=FOREIGN_IMAGE, mime_type="image/png")
    context, page, sockets = open_page(browser, live_server, mod, f"/dashboard/threads/{thread.id}")
    try:
        page.locator(f'a[href="{FOREIGN_IMAGE}"]').wait_for()
        assert page.locator(f'img[src="{FOREIGN_IMAGE}"]').count() == 0
        host = live_server.url.removeprefix("http://")
        for _ in range(100):  # the live socket opens once the page's script runs
            if any(u.startswith(f"ws://{host}/socket.io/") for u in sockets):
                break
            page.wait_for_timeout(100)
        assert any(u.startswith(f"ws://{host}/socket.io/") for u in sockets), sockets
        assert page.evaluate("window.__csp") == []
    finally:
        context.close()
