"""The spam clean-up on a user's page: hide a window of messages, see the result, undo it."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa

from dashboard.extensions import db
from dashboard.models import Message, User, utcnow

from .pages_support import HTMX, audit_rows, csrf_token


def _hidden(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        return set(db.session.scalars(sa.select(Message.id).where(Message.hidden_at.is_not(None))))


def test_cleanup_then_undo_from_the_user_page(app, client, factory, login_as):
    login_as("moderator")
    spammer = factory.user(username="spammy")
    t = factory.thread(spammer, [factory.user()])
    fresh = factory.message(t, spammer, "buy now", at=utcnow() - timedelta(minutes=10))
    old = factory.message(t, spammer, "old news", at=utcnow() - timedelta(days=2))
    page = client.get(f"/dashboard/users/{spammer.id}").get_data(as_text=True)
    assert 'id="user-cleanup"' in page and "data-confirm=" in page
    missing = client.post(
        f"/dashboard/users/{spammer.id}/cleanup",
        data={"window": "day", "reason": " ", "csrf_token": csrf_token(client)},
        headers=HTMX,
    )
    assert missing.status_code == 422
    assert 'aria-describedby="err-reason"' in missing.get_data(as_text=True)
    assert _hidden(app) == set()
    resp = client.post(
        f"/dashboard/users/{spammer.id}/cleanup",
        data={
            "window": "day",
            "reason": "spam",
            "deactivate": "y",
            "csrf_token": csrf_token(client),
        },
        headers=HTMX,
    )
    assert resp.status_code == 200
    toast = json.loads(resp.headers["HX-Trigger"])["toast"]
    assert toast == "Hid 1 message of spammy in 1 thread. spammy was deactivated."
    body = resp.get_data(as_text=True)
    assert 'id="user-badges" hx-swap-oob="true"' in body  # the header badges follow
    assert (
        'id="user-admin" class="card-section" aria-labelledby="admin-heading" hx-swap-oob' in body
    )
    assert "This account is <strong>deactivated</strong>" in body  # and the account panel
    assert ">Undo</button>" in body
    assert _hidden(app) == {fresh.id}
    with app.app_context():
        assert not db.session.get(User, spammer.id).is_active
    (row,) = audit_rows(app, action="user.cleanup")
    undo = client.post(
        f"/dashboard/users/{spammer.id}/cleanups/{row.id}/undo",
        data={"csrf_token": csrf_token(client)},
        headers=HTMX,
    )
    assert undo.status_code == 200
    assert json.loads(undo.headers["HX-Trigger"])["toast"] == (
        "Restored 1 message of spammy. spammy was reactivated."
    )
    assert "undone" in undo.get_data(as_text=True)
    assert _hidden(app) == set() and old.id not in _hidden(app)
    again = client.post(
        f"/dashboard/users/{spammer.id}/cleanups/{row.id}/undo",
        data={"csrf_token": csrf_token(client)},
        headers=HTMX,
    )
    assert again.status_code == 409
    # An undo through another user's URL is not found.
    other = factory.user()
    wrong = client.post(
        f"/dashboard/users/{other.id}/cleanups/{row.id}/undo",
        data={"csrf_token": csrf_token(client)},
        headers=HTMX,
    )
    assert wrong.status_code == 404


def test_support_sees_no_cleanup_panel(client, factory, login_as):
    login_as("support")
    target = factory.user()
    page = client.get(f"/dashboard/users/{target.id}").get_data(as_text=True)
    assert 'id="user-cleanup"' not in page
