"""The chat page in a real Chromium: two users in two browser contexts against the live server."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from dashboard.extensions import db
from dashboard.models import Message, Participant
from tests.conftest import TEST_PASSWORD, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

XSS = "<img src=x onerror=alert(1)>"


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
        page.goto(f"{live_server.url}/login?next=/chat/")
        page.fill("#username", user.username)
        page.fill("#password", TEST_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/chat/"))
        wait_connected(page)
        return page

    yield open_as
    for context in contexts:
        context.close()
    assert not dialogs, f"a JavaScript dialog fired: {dialogs}"
    assert not errors, f"JavaScript errors: {errors}"


def wait_connected(page: Any) -> None:
    """The chat's socket is connected (and its first sync done)."""
    page.wait_for_selector("#connection[data-state=online]", state="attached")


def open_thread(page: Any, title: str) -> None:
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


def status_of(page: Any, text: str) -> str:
    return bubble(page, text).get_attribute("data-status")


def wait_status(page: Any, text: str, status: str) -> None:
    bubble(page, text).and_(page.locator(f"[data-status={status}]")).wait_for()


def bodies(page: Any) -> list[str]:
    return page.locator("#messages li.msg .msg-body").all_inner_texts()


def test_two_users_chat_with_read_marks_and_a_reload(
    app: Flask, factory: Any, open_user: Callable[..., Any]
) -> None:
    alice = factory.user(username="alice", first_name="Alice", password=TEST_PASSWORD)
    bob = factory.user(username="bob", first_name="Bob", password=TEST_PASSWORD)
    thread = factory.thread(alice, [bob], title="Lunch plans")

    pa = open_user(alice)
    pb = open_user(bob)
    open_thread(pa, "Lunch plans")

    # Alice writes; she sees it at once, then the server's tick; Bob's list counts it unread,
    # and since his browser received it, Alice's mark moves to delivered.
    send(pa, "Hi Bob, noodles at noon?")
    assert bubble(pa, "Hi Bob, noodles at noon?").count() == 1
    pb.get_by_role("button", name=re.compile("Lunch plans")).locator(
        ".badge", has_text="1"
    ).wait_for()
    wait_status(pa, "Hi Bob, noodles at noon?", "delivered")
    assert pa.locator("#messages .msg-status-text").last.inner_text() == "Delivered"

    # Bob opens the thread: he reads it, and Alice sees the read mark.
    open_thread(pb, "Lunch plans")
    assert bubble(pb, "Hi Bob, noodles at noon?").count() == 1
    wait_status(pa, "Hi Bob, noodles at noon?", "read")
    assert pa.locator("#messages .msg-status-text").last.inner_text() == "Read"
    assert pb.get_by_role("button", name=re.compile("Lunch plans")).locator(".badge").count() == 0

    # Bob answers (Shift+Enter makes a second line); Alice has the thread open, so it is read.
    pb.fill("#composer-input", "Sure!")
    pb.press("#composer-input", "Shift+Enter")
    pb.type("#composer-input", "See you there")
    pb.press("#composer-input", "Enter")
    bubble(pa, "Sure!\nSee you there").wait_for()
    wait_status(pb, "Sure!\nSee you there", "read")

    # Hostile content stays text: no element is made from it and no dialog fires.
    send(pb, XSS)
    bubble(pa, XSS).wait_for()
    assert pa.locator("#messages img").count() == 0
    assert pb.locator("#messages img").count() == 0
    pa.wait_for_timeout(300)  # give a would-be onerror handler its chance

    expected = ["Hi Bob, noodles at noon?", "Sure!\nSee you there", XSS]
    assert bodies(pa) == expected
    assert bodies(pb) == expected

    screenshot(pa, "chat-desktop-alice")
    pb.set_viewport_size({"width": 390, "height": 844})
    screenshot(pb, "chat-390-bob-conversation")

    # A reload keeps everything: the same messages, once each, with their statuses.
    pa.reload()
    wait_connected(pa)
    open_thread(pa, "Lunch plans")
    assert bodies(pa) == expected
    assert status_of(pa, "Hi Bob, noodles at noon?") == "read"
    pb.reload()  # at 390 px, on the thread's own URL: the conversation fills the screen
    wait_connected(pb)
    pb.wait_for_selector("#messages[data-loaded=true]")
    assert bodies(pb) == expected
    assert pb.locator("#thread-list").is_hidden()
    pb.get_by_role("button", name="Back to the thread list").click()
    assert pb.locator("#conversation").is_hidden()
    screenshot(pb, "chat-390-bob-list")
    open_thread(pb, "Lunch plans")
    assert bodies(pb) == expected
    assert status_of(pb, XSS) == "read"

    with app.app_context():
        rows = db.session.scalars(
            sa.select(Message.content).where(Message.thread_id == thread.id).order_by(Message.id)
        ).all()
        assert rows == expected
        read_marks = dict(
            db.session.execute(
                sa.select(Participant.user_id, Participant.read_through).where(
                    Participant.thread_id == thread.id
                )
            ).all()
        )
    last_id = pa.locator("#messages li.msg").last.get_attribute("data-id")
    assert read_marks[alice.id] == last_id


def test_reconnect_backfills_each_message_exactly_once(
    app: Flask, factory: Any, open_user: Callable[..., Any]
) -> None:
    alice = factory.user(username="carol", first_name="Carol", password=TEST_PASSWORD)
    bob = factory.user(username="dave", first_name="Dave", password=TEST_PASSWORD)
    factory.thread(alice, [bob], title="Release")

    pa = open_user(alice)
    pb = open_user(bob)
    open_thread(pa, "Release")
    open_thread(pb, "Release")
    send(pa, "before the outage")
    bubble(pb, "before the outage").wait_for()

    # Dave's browser drops off the network while Carol keeps writing.
    pb.context.set_offline(True)
    pb.wait_for_selector("#connection[data-state=reconnecting]", timeout=60_000)
    missed = [f"while you were away {i}" for i in range(1, 8)]
    for text in missed:
        send(pa, text)
        wait_status(pa, text, "sent")
    assert pb.locator("#messages li.msg").count() == 1

    # Back online: the client syncs from its cursor; every message shows up exactly once.
    pb.context.set_offline(False)
    wait_connected(pb)
    bubble(pb, missed[-1]).wait_for(timeout=30_000)
    assert bodies(pb) == ["before the outage", *missed]
    # And Carol's marks catch up: Dave has the thread open, so they are read.
    wait_status(pa, missed[-1], "read")
