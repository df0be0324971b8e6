"""Who may use the threads routes (SPEC §3), CSRF on every POST, and forged POSTs."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from dashboard.extensions import db
from dashboard.models import AuditLog, Message, Thread
from tests.conftest import get_csrf

ROLES = ("anonymous", "user", "support", "moderator", "admin")
# route -> (method, the lowest role allowed)
ROUTES = {
    "list": ("GET", "support"),
    "detail": ("GET", "support"),
    "bulk": ("POST", "moderator"),
    "archive": ("POST", "moderator"),
    "unarchive": ("POST", "moderator"),
    "hide": ("POST", "moderator"),
    "restore": ("POST", "moderator"),
    "export": ("POST", "moderator"),
}
RANK = {r: i for i, r in enumerate(ROLES)}


def _url(name, t, m):
    return {
        "list": "/dashboard/threads",
        "detail": f"/dashboard/threads/{t.id}",
        "bulk": "/dashboard/threads/bulk",
        "archive": f"/dashboard/threads/{t.id}/archive",
        "unarchive": f"/dashboard/threads/{t.id}/unarchive",
        "hide": f"/dashboard/messages/{m.id}/hide",
        "restore": f"/dashboard/messages/{m.id}/restore",
        "export": f"/dashboard/threads/{t.id}/export",
    }[name]


def _state(app, t, m):
    with app.app_context():
        return (
            db.session.get(Thread, t.id).is_archived,
            db.session.get(Message, m.id).hidden_at,
            db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)),
        )


@pytest.mark.parametrize("role", ROLES)
def test_access_table(app, client, factory, login_as, role):
    owner = factory.user()
    t = factory.thread(owner)
    m = factory.message(t, owner, "hello")
    if role != "anonymous":
        login_as(role)
    token = get_csrf(client, "/")
    for name, (method, lowest) in ROUTES.items():
        url = _url(name, t, m)
        data = {
            "csrf_token": token,
            "reason": "because",
            "ids": [t.id],
            "action": "archive",
            "format": "json",
        }
        before = _state(app, t, m)
        resp = client.get(url) if method == "GET" else client.post(url, data=data)
        where = f"{role} {method} {name}"
        if role == "anonymous":
            assert resp.status_code == 302, where
            assert resp.location.startswith("/login"), where
        elif RANK[role] < RANK[lowest]:
            assert resp.status_code == 403, where
            assert "<html" in resp.get_data(as_text=True), where  # a page in the site's style
            assert _state(app, t, m) == before, where
        else:
            assert resp.status_code in (200, 303), (where, resp.status_code)
        resp.close()


def test_forbidden_htmx_request_gets_a_fragment(client, factory, login_as):
    login_as("support")
    t = factory.thread(factory.user())
    token = get_csrf(client, "/dashboard/threads")
    resp = client.post(
        f"/dashboard/threads/{t.id}/archive",
        data={"csrf_token": token, "reason": "x"},
        headers={"HX-Request": "true"},
    )
    assert resp.status_code == 403 and "<html" not in resp.get_data(as_text=True)


def test_support_sees_no_action_controls(client, factory, login_as):
    login_as("support")
    owner = factory.user()
    t = factory.thread(owner)
    factory.message(t, owner, "hello")
    listing = client.get("/dashboard/threads").get_data(as_text=True)
    detail = client.get(f"/dashboard/threads/{t.id}").get_data(as_text=True)
    assert t.title in listing and "hello" in detail
    for html in (listing, detail):
        assert "bulk-form" not in html and "row-check" not in html
        assert "/archive" not in html and "/hide" not in html and "/export" not in html


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/threads/{t}/archive",
        "/dashboard/messages/{m}/hide",
        "/dashboard/threads/bulk",
        "/dashboard/threads/{t}/export",
    ],
)
def test_post_without_csrf_is_refused(app, client, factory, login_as, path):
    mod = login_as("moderator")
    t = factory.thread(mod)
    m = factory.message(t, mod)
    before = _state(app, t, m)
    url = path.format(t=t.id, m=m.id)
    data = {"reason": "r", "ids": [t.id], "action": "archive", "confirm": "1", "format": "json"}
    resp = client.post(url, data=data)
    assert resp.status_code == 400
    assert "security token" in resp.get_data(as_text=True)
    bad = client.post(url, data={**data, "csrf_token": "forged"})
    assert bad.status_code == 400
    assert _state(app, t, m) == before
