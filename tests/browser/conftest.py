"""Fixtures of the browser tests (the browser, page and live server are in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .chat_steps import log_in, wait_connected


@pytest.fixture
def open_user(browser: Any, live_server: Any) -> Iterator[Callable[..., Any]]:
    """Log a user in through /login in a fresh browser context; fails on any JS dialog."""
    contexts: list[Any] = []
    dialogs: list[str] = []
    errors: list[str] = []

    def open_as(user: Any, width: int = 1280, height: int = 900) -> Any:
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: errors.append(f"{user.username}: {e}"))
        log_in(page, live_server.url, user.username)
        wait_connected(page)
        return page

    yield open_as
    for context in contexts:
        context.close()
    assert not dialogs, f"a JavaScript dialog fired: {dialogs}"
    assert not errors, f"JavaScript errors: {errors}"
