"""Watched words in a real Chromium: a moderator manages the list on its page, a flagged
message lands in the reports queue from the system, and a blocked send is refused on the
chat page with nothing stored."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from dashboard.extensions import db
from dashboard.models import Message, Report, User
from dashboard.services import watched_words
from tests.browser.chat_steps import bubble, open_thread, send
from tests.conftest import TEST_PASSWORD, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]


def _login_dashboard(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/dashboard/?$"))


def test_flagged_word_lands_in_the_reports_queue(app, live_server, page, factory, open_user):
    mod = factory.user(role="moderator", password=TEST_PASSWORD, username="mod_wes")
    kim = factory.user(password=TEST_PASSWORD, username="kim")
    lee = factory.user(password=TEST_PASSWORD, username="lee")
    factory.thread(kim, [lee], title="Order help")
    base = live_server.url
    _login_dashboard(page, base, mod.username)
    page.get_by_role("link", name="Watched words").click()
    page.wait_for_url(re.compile(r"/dashboard/watched-words$"))
    expect(page.get_by_text("No watched words yet.")).to_be_visible()

    # A catastrophic regex is refused beside its field; nothing is added.
    page.get_by_label("Kind").select_option("regex")
    page.get_by_label("Word, phrase or pattern").fill("(a+)+$")
    page.get_by_role("button", name="Add", exact=True).click()
    err = page.locator("#err-pattern")
    expect(err).to_contain_text("Nested repeats")
    expect(page.get_by_label("Word, phrase or pattern")).to_have_attribute("aria-invalid", "true")

    page.get_by_label("Kind").select_option("word")
    page.get_by_label("Word, phrase or pattern").fill("refund")
    page.get_by_label("Action").select_option("flag")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("#toasts")).to_contain_text("Added the word “refund” (flag).")
    expect(page.locator("#watched-word-rows tr")).to_have_count(1)
    screenshot(page, "watched-words-1280")

    # The end user sends a message with the word in another case; it is sent.
    chat = open_user(kim)
    open_thread(chat, "Order help")
    send(chat, "I would like a REFUND please")
    expect(bubble(chat, "I would like a REFUND please").locator(".msg-error")).to_have_count(0)
    expect(bubble(chat, "I would like a REFUND please")).to_have_count(1)

    page.get_by_role("link", name="Reports").click()
    row = page.locator("#report-rows tr[id^='report-']")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("I would like a REFUND please")
    expect(row).to_contain_text("system")
    expect(row).to_contain_text("watched words")
    expect(row).to_contain_text("Watched word: “refund”")
    with app.app_context():
        assert db.session.scalar(sa.select(Report.reporter_id)) is None

    # Delete asks first, then the list is empty again (and the deletion is audited).
    page.get_by_role("link", name="Watched words").click()
    page.get_by_role("button", name="Delete").click()
    expect(page.locator("#confirm-dialog")).to_be_visible()
    expect(page.locator("#confirm-text")).to_contain_text("Delete the word “refund”?")
    page.locator("[data-confirm-ok]").click()
    expect(page.get_by_text("No watched words yet.")).to_be_visible()
    expect(page.locator("#toasts")).to_contain_text("Deleted the word “refund”.")


def test_blocked_send_is_refused_on_the_chat_page_and_not_stored(app, factory, open_user):
    mod = factory.user(role="moderator")
    kim = factory.user(password=TEST_PASSWORD, username="kim2")
    lee = factory.user(password=TEST_PASSWORD, username="lee2")
    factory.thread(kim, [lee], title="Support")
    with app.app_context():
        watched_words.add_rule(db.session.get(User, mod.id), "phrase", "free crypto", "block")
    chat = open_user(kim)
    other = open_user(lee)
    open_thread(chat, "Support")
    open_thread(other, "Support")
    send(chat, "Get FREE   Crypto today")
    failed = bubble(chat, "Get FREE   Crypto today")
    expect(failed.locator(".msg-error")).to_contain_text(
        "This message was not sent: it contains a blocked phrase."
    )
    send(chat, "sorry, wrong chat")
    expect(bubble(other, "sorry, wrong chat")).to_have_count(1)
    expect(bubble(other, "Get FREE   Crypto today")).to_have_count(0)
    with app.app_context():
        assert db.session.scalars(sa.select(Message.content)).all() == ["sorry, wrong chat"]
    screenshot(chat, "watched-words-blocked-chat")
