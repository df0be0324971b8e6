"""Every dashboard route, for every kind of visitor: SPEC §3's table, enforced on each rule.

The routes come from app.url_map, so a new dashboard route without a row in ACCESS fails
`test_every_dashboard_route_has_an_expectation` until someone decides who may use it.
"""

from __future__ import annotations

import pytest

from dashboard.models import ROLE_RANK

from .pages_support import HTMX, World, audit_count, csrf_token

# endpoint: (method, lowest role allowed)
ACCESS: dict[str, tuple[str, str]] = {
    "dashboard.overview": ("GET", "support"),
    "dashboard.overview_counts": ("GET", "support"),
    "dashboard.threads": ("GET", "support"),
    "dashboard.thread_detail": ("GET", "support"),
    "dashboard.users": ("GET", "support"),
    "dashboard.user_detail": ("GET", "support"),
    "dashboard.presence": ("GET", "support"),
    "dashboard.reports": ("GET", "support"),
    "dashboard.audit": ("GET", "moderator"),
    "search.search": ("GET", "support"),  # the search helper's page (after the merge)
    "dashboard.report_resolve": ("POST", "moderator"),
    "dashboard.user_deactivate": ("POST", "moderator"),
    "dashboard.user_reactivate": ("POST", "moderator"),
    "dashboard.user_role": ("POST", "admin"),
    "dashboard.user_export_json": ("POST", "admin"),
    "dashboard.user_erase": ("POST", "admin"),
    "dashboard.user_create": ("POST", "admin"),
    "dashboard.threads_bulk": ("POST", "moderator"),
    "dashboard.thread_archive": ("POST", "moderator"),
    "dashboard.thread_unarchive": ("POST", "moderator"),
    "dashboard.message_hide": ("POST", "moderator"),
    "dashboard.message_restore": ("POST", "moderator"),
    "dashboard.thread_export": ("POST", "moderator"),
    "dashboard.watched_words_list": ("GET", "moderator"),
    "dashboard.watched_word_add": ("POST", "moderator"),
    "dashboard.watched_word_delete": ("POST", "moderator"),
    "dashboard.user_cleanup": ("POST", "moderator"),
    "dashboard.user_cleanup_undo": ("POST", "moderator"),
}

VISITORS = ("anonymous", "user", "support", "moderator", "admin")


def dashboard_rules(app):  # type: ignore[no-untyped-def]
    """(endpoint, method) of every rule under /dashboard."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.rule == "/dashboard" or rule.rule.startswith("/dashboard/"):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                out.append((rule.endpoint, method))
    return sorted(out)


def test_every_dashboard_route_has_an_expectation(app):
    rules = dashboard_rules(app)
    missing = [(e, m) for e, m in rules if e not in ACCESS or ACCESS[e][0] != m]
    assert not missing, f"dashboard routes without an access expectation: {missing}"
    # Every page of SPEC §4 (except search, its own issue) exists.
    endpoints = {e for e, _ in rules}
    assert set(ACCESS) - {"search.search"} <= endpoints


@pytest.mark.parametrize("visitor", VISITORS)
def test_access_to_every_dashboard_route(app, client, factory, login_as, visitor):
    """Anonymous → login; below the route's role → 403 page, nothing changes; else it works."""
    world = World(factory)
    if visitor != "anonymous":
        login_as(visitor)
    token = csrf_token(client)
    changed = 0  # audit rows the requests wrote (a target's own set-up may write some too)
    allowed_writes = 0
    for endpoint, method in dashboard_rules(app):
        path, data = world.request_for(endpoint)
        before = audit_count(app)
        min_role = ACCESS[endpoint][1]
        if method == "GET":
            resp = client.get(path)
        else:
            resp = client.post(path, data={**data, "csrf_token": token})
        body = resp.get_data(as_text=True)
        where = f"{visitor} {method} {path}"
        if visitor == "anonymous":
            assert resp.status_code == 302, where
            assert resp.headers["Location"].startswith("/login?next="), where
        elif ROLE_RANK[visitor] < ROLE_RANK[min_role]:
            assert resp.status_code == 403, where
            assert "<html" in body and "Not allowed" in body, where  # the styled 403 page
            assert 'class="subnav"' not in body or visitor != "user", where
        elif method == "GET":
            assert resp.status_code == 200, f"{where}: {body[:500]}"
        else:
            assert resp.status_code in (200, 303), f"{where}: {resp.status_code} {body[:500]}"
            allowed_writes += 1
        changed += audit_count(app) - before
    if visitor in ("anonymous", "user", "support"):
        assert changed == 0, "a refused action changed something"
    else:
        assert changed > 0 and allowed_writes > 0


@pytest.mark.parametrize("visitor", ["user", "support"])
def test_forbidden_htmx_requests_get_a_403_fragment(app, client, factory, login_as, visitor):
    world = World(factory)
    login_as(visitor)
    token = csrf_token(client)
    path, data = world.request_for("dashboard.user_deactivate")
    resp = client.post(path, data={**data, "csrf_token": token}, headers=HTMX)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 403
    assert "<html" not in body and 'class="error-fragment"' in body
    assert audit_count(app) == 0
    if visitor == "user":
        resp = client.get("/dashboard/users", headers=HTMX)
        assert resp.status_code == 403 and "<html" not in resp.get_data(as_text=True)


def test_anonymous_htmx_request_is_sent_to_login(client):
    resp = client.get("/dashboard/counts", headers=HTMX)
    assert resp.status_code == 401
    assert resp.headers["HX-Redirect"].startswith("/login?next=/dashboard/counts")


def test_support_sees_pages_without_action_controls(app, client, factory, login_as):
    world = World(factory)
    report = world.report()
    login_as("support")
    users_page = client.get(f"/dashboard/users/{world.other.id}").get_data(as_text=True)
    assert "/deactivate" not in users_page and "/role" not in users_page
    reports_page = client.get("/dashboard/reports").get_data(as_text=True)
    assert report.reason in reports_page and "/resolve" not in reports_page
    nav = client.get("/dashboard/").get_data(as_text=True)
    assert 'href="/dashboard/audit"' not in nav  # support has no audit log
