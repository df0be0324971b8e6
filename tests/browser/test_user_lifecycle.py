"""An admin erases a user from their page in a real Chromium: reason, typed name, the dialog."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from dashboard.extensions import db
from dashboard.models import AuditLog, Message, User
from tests.conftest import TEST_PASSWORD, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

SCRIPT = "<script>alert(1)</script>"


def test_admin_erases_a_user_from_the_user_page(app, live_server, page, factory):
    admin = factory.user(role="admin", password=TEST_PASSWORD, username="ada")
    target = factory.user(username="zorro", email="zorro@example.test", first_name=SCRIPT)
    friend = factory.user(username="fran")
    thread = factory.thread(target, [friend], title="Chat")
    factory.message(thread, target, f"zorro's words {SCRIPT}")
    base = live_server.url
    page.goto(f"{base}/login")
    page.get_by_label("Username or email").fill(admin.username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/dashboard/?$"))

    page.goto(f"{base}/dashboard/users/{target.id}")
    page.get_by_label("Reason for erasing").fill("asked by email")
    page.get_by_label("Type zorro to confirm").fill("zorr")  # a typo: refused inline
    page.get_by_role("button", name="Erase zorro's personal data").click()
    page.get_by_role("button", name="Confirm").click()
    page.get_by_text("Type zorro to confirm.").wait_for()
    with app.app_context():
        assert db.session.get(User, target.id).erased_at is None

    page.get_by_label("Reason for erasing").fill("asked by email")
    page.get_by_label("Type zorro to confirm").fill("zorro")
    page.get_by_role("button", name="Erase zorro's personal data").click()
    screenshot(page, "user-erase-confirm")
    page.get_by_role("button", name="Confirm").click()
    page.get_by_text("Personal data erased").wait_for()
    screenshot(page, "user-erased")
    with app.app_context():
        user = db.session.get(User, target.id)
        assert user.email is None and user.first_name is None and not user.is_active
        msg = db.session.scalar(sa.select(Message).where(Message.user_id == target.id))
        assert msg.content == ""
        row = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "user.erase"))
        assert row.actor_id == admin.id and row.reason == "asked by email"
