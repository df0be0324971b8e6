"""Spam clean-up in a real Chromium: a moderator hides a user's messages from the user page
(confirm, toast), another user's open chat sees them removed live, and Undo brings back
exactly those messages, live too."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from dashboard.extensions import db
from dashboard.models import Message, User, utcnow
from tests.browser.chat_steps import bubble, open_thread
from tests.conftest import TEST_PASSWORD, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

REMOVED = "This message was removed by a moderator."


def test_cleanup_hides_live_and_undo_restores(app, live_server, page, factory, open_user):
    mod = factory.user(role="moderator", password=TEST_PASSWORD, username="mod_cleo")
    spammer = factory.user(password=TEST_PASSWORD, username="spam_sid")
    bob = factory.user(password=TEST_PASSWORD, username="bob_b")
    t = factory.thread(bob, [spammer], title="Marketplace")
    now = utcnow()
    factory.message(t, bob, "anyone selling a bike?", at=now - timedelta(minutes=20))
    factory.message(t, spammer, "BUY CHEAP PILLS", at=now - timedelta(minutes=10))
    factory.message(t, spammer, "visit my site", at=now - timedelta(minutes=5))
    old = factory.message(t, spammer, "a fine old message", at=now - timedelta(days=3))

    chat = open_user(bob)
    open_thread(chat, "Marketplace")
    expect(bubble(chat, "BUY CHEAP PILLS")).to_have_count(1)

    base = live_server.url
    page.goto(f"{base}/login")
    page.get_by_label("Username or email").fill(mod.username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/dashboard/?$"))
    page.goto(f"{base}/dashboard/users/{spammer.id}")
    panel = page.locator("#user-cleanup")
    panel.get_by_label("Messages from").select_option("day")
    panel.get_by_label("Reason").fill("pill spam")
    panel.get_by_role("button", name="Hide messages").click()
    expect(page.locator("#confirm-dialog")).to_be_visible()
    expect(page.locator("#confirm-text")).to_contain_text("Hide spam_sid's messages")
    page.locator("[data-confirm-ok]").click()
    expect(page.locator("#toasts")).to_contain_text("Hid 2 messages of spam_sid in 1 thread.")
    expect(panel.get_by_role("button", name="Undo")).to_be_visible()
    screenshot(page, "spam-cleanup-user-page")

    # Bob's open chat: both spam messages are removed live, the old one and his own stay.
    removed = chat.locator("#messages li.msg", has_text=REMOVED)
    expect(removed).to_have_count(2)
    expect(bubble(chat, "BUY CHEAP PILLS")).to_have_count(0)
    expect(bubble(chat, "anyone selling a bike?")).to_have_count(1)
    screenshot(chat, "spam-cleanup-chat-removed")

    panel.get_by_role("button", name="Undo").click()
    expect(page.locator("#toasts")).to_contain_text("Restored 2 messages of spam_sid.")
    expect(panel.locator(".badge", has_text="undone")).to_be_visible()
    expect(bubble(chat, "BUY CHEAP PILLS")).to_have_count(1)
    expect(bubble(chat, "visit my site")).to_have_count(1)
    expect(removed).to_have_count(0)
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(Message)
                .where(Message.hidden_at.is_not(None))
            )
            == 0
        )
        assert db.session.get(Message, old.id).hidden_at is None
        assert db.session.get(User, spammer.id).is_active
