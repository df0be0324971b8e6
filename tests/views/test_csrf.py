"""Every dashboard POST without a CSRF token is refused (400) and changes nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from dashboard.extensions import db
from dashboard.models import Message, Report, Thread, User

from .pages_support import HTMX, World, audit_count
from .test_access import dashboard_rules


def snapshot(app):  # type: ignore[no-untyped-def]
    """What a refused action must not change: users, threads, messages, reports, audit."""
    with app.app_context():
        return {
            "users": db.session.execute(
                sa.select(User.id, User.role, User.is_active, User.session_version).order_by(
                    User.id
                )
            ).all(),
            "threads": db.session.execute(
                sa.select(Thread.id, Thread.is_archived).order_by(Thread.id)
            ).all(),
            "messages": db.session.execute(
                sa.select(Message.id, Message.hidden_at).order_by(Message.id)
            ).all(),
            "reports": db.session.execute(
                sa.select(Report.id, Report.state).order_by(Report.id)
            ).all(),
            "audit": audit_count(app),
        }


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_post_without_csrf_token_is_refused(app, client, factory, login_as, htmx):
    world = World(factory)
    login_as("admin")
    posts = [e for e, m in dashboard_rules(app) if m == "POST"]
    assert len(posts) >= 5
    for endpoint in posts:
        path, data = world.request_for(endpoint)
        before = snapshot(app)
        resp = client.post(path, data=data, headers=HTMX if htmx else {})
        assert resp.status_code == 400, endpoint
        body = resp.get_data(as_text=True)
        assert "security token" in body, endpoint
        assert ("<html" in body) != htmx, endpoint  # a page, or a fragment for htmx
        assert snapshot(app) == before, f"{endpoint} changed something without a CSRF token"


def test_a_wrong_token_is_refused_too(app, client, factory, login_as):
    world = World(factory)
    login_as("admin")
    path, data = world.request_for("dashboard.user_deactivate")
    before = snapshot(app)
    resp = client.post(path, data={**data, "csrf_token": "forged"})
    assert resp.status_code == 400
    resp = client.post(path, data=data, headers={"X-CSRFToken": "forged", **HTMX})
    assert resp.status_code == 400
    assert snapshot(app) == before
