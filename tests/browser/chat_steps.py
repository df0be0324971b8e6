"""The steps a person takes on the chat page, shared by the browser tests: log in through the
form, wait for the socket, open a thread, send a message, find a message's bubble."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import TEST_PASSWORD


def log_in(page: Any, base: str, username: str, next_path: str = "/chat/") -> None:
    """Log in through /login's form and wait for the page it sends the user on to."""
    page.goto(f"{base}/login?next={next_path}")
    page.fill("#username", username)
    page.fill("#password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(re.escape(next_path)))


def wait_connected(page: Any) -> None:
    """The chat's socket is connected (and its first sync done)."""
    page.wait_for_selector("#connection[data-state=online][data-synced=true]", state="attached")


def open_thread(page: Any, title: str) -> None:
    """Click the thread in the list and wait for its messages."""
    page.get_by_role("button", name=re.compile(re.escape(title))).click()
    page.wait_for_selector("#conversation:not([hidden])")
    page.wait_for_selector("#messages[data-loaded=true]")


def send(page: Any, text: str) -> None:
    """Type a message and press Enter (the keyboard path a user takes)."""
    page.fill("#composer-input", text)
    page.press("#composer-input", "Enter")


def bubble(page: Any, text: str) -> Any:
    """The message bubbles whose body is exactly `text`."""
    return page.locator("#messages li.msg").filter(
        has=page.locator(".msg-body", has_text=re.compile(f"^{re.escape(text)}$"))
    )


def wait_status(page: Any, text: str, status: str, timeout: float = 10_000) -> None:
    """Wait until the bubble of `text` shows `status` (sent, delivered, read)."""
    bubble(page, text).and_(page.locator(f"[data-status={status}]")).wait_for(timeout=timeout)
