"""Users list and user page: filters, keyset pages, deactivation, role change, staff accounts."""

from __future__ import annotations

import re

import pytest

from dashboard.extensions import db
from dashboard.models import User
from dashboard.services import presence
from dashboard.services.users import queries as user_queries
from tests.conftest import TEST_PASSWORD, get_csrf

from .pages_support import HTMX, audit_rows, csrf_token


@pytest.fixture(autouse=True)
def _no_presence():
    presence.reset()
    yield
    presence.reset()


def usernames(html: str) -> list[str]:
    """Usernames linked from the users table, in page order."""
    return re.findall(r'<a href="/dashboard/users/[^"]+">([^<]+)</a>', html)


def load_user(app, user_id):  # type: ignore[no-untyped-def]
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def test_filters_by_role_active_online_and_text(app, client, factory, login_as):
    login_as("support", username="zz-support")
    ann = factory.user(username="ann", first_name="Annabel", last_name="Lee")
    bob = factory.user(username="bob", email="bob@corp.example")
    carl = factory.user(username="carl", is_active=False)
    mod = factory.user(role="moderator", username="mona")
    presence.connect(bob.id, "sid-1")

    def names(**params):  # type: ignore[no-untyped-def]
        resp = client.get("/dashboard/users", query_string=params)
        assert resp.status_code == 200
        return usernames(resp.get_data(as_text=True))

    assert names(role="moderator") == [mod.username]
    assert carl.username in names(active="no") and ann.username not in names(active="no")
    assert carl.username not in names(active="yes")
    assert names(online="yes") == [bob.username]
    assert bob.username not in names(online="no")
    assert names(q="annabel") == [ann.username]  # first name
    assert names(q="annabel lee") == [ann.username]  # full name
    assert names(q="CORP.EXAMPLE") == [bob.username]  # email, any case
    assert names(q="%") == []  # LIKE wildcards are literal
    assert names(role="user", q="b") == [ann.username, bob.username]  # "b" in annaBel and bob


def test_filters_are_in_the_url_and_htmx_gets_the_results_partial(client, factory, login_as):
    login_as("support")
    factory.user(username="findme")
    page = client.get("/dashboard/users").get_data(as_text=True)
    assert 'hx-push-url="true"' in page and 'hx-target="#user-results"' in page
    resp = client.get("/dashboard/users?q=findme", headers={**HTMX, "HX-Target": "user-results"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<div id="user-results"') and usernames(body) == ["findme"]


def test_keyset_pages_walk_every_user_once(app, client, factory, login_as, monkeypatch):
    monkeypatch.setattr(user_queries, "PAGE_SIZE", 3)
    login_as("support", username="aaa-staff")
    made = [factory.user(username=f"pg{n:02d}").username for n in range(8)]
    seen: list[str] = []
    html = client.get("/dashboard/users?q=pg").get_data(as_text=True)
    seen += usernames(html)
    while True:
        m = re.search(r'hx-get="(/dashboard/users\?[^"]*cursor=[^"]*)"', html)
        if not m:
            break
        url = m.group(1).replace("&amp;", "&")
        assert "q=pg" in url  # the filters ride along with the cursor
        html = client.get(url, headers=HTMX).get_data(as_text=True)
        assert "<table" not in html  # just the rows
        seen += usernames(html)
    assert seen == sorted(made)


def test_user_page_shows_threads_messages_presence_and_last_login(app, client, factory, login_as):
    login_as("support")
    u = factory.user(username="dora", password=TEST_PASSWORD)
    other = factory.user()
    t = factory.thread(u, [other], title="Dora's thread")
    factory.message(t, u, "my latest words")
    # dora logs in somewhere else: the page shows the login time
    with app.test_client() as c2:
        c2.post(
            "/login",
            data={
                "username": "dora",
                "password": TEST_PASSWORD,
                "csrf_token": get_csrf(c2, "/login"),
            },
        )
    presence.connect(u.id, "sid-dora")
    html = client.get(f"/dashboard/users/{u.id}").get_data(as_text=True)
    assert "Dora&#39;s thread" in html and "my latest words" in html
    assert "badge-online" in html
    last_login = re.search(r"<dt>Last login</dt><dd>(.*?)</dd>", html, re.S).group(1)
    assert "never" not in last_login and "<time" in last_login
    assert client.get("/dashboard/users/no-such-user").status_code == 404


def test_deactivation_ends_the_users_session_and_is_audited(app, client, factory, login_as):
    victim = factory.user(username="victim", password=TEST_PASSWORD)
    victim_client = app.test_client()
    victim_client.post(
        "/login",
        data={
            "username": "victim",
            "password": TEST_PASSWORD,
            "csrf_token": get_csrf(victim_client, "/login"),
        },
    )
    assert victim_client.get("/chat/").status_code == 200
    mod = login_as("moderator")
    resp = client.post(
        f"/dashboard/users/{victim.id}/deactivate",
        data={"reason": "spamming", "csrf_token": csrf_token(client)},
        headers=HTMX,
    )
    assert resp.status_code == 200
    assert "toast" in resp.headers["HX-Trigger"] and "deactivated" in resp.headers["HX-Trigger"]
    assert "Reactivate victim" in resp.get_data(as_text=True)  # the panel, refreshed in place
    stored = load_user(app, victim.id)
    assert stored.is_active is False and stored.session_version == victim.session_version + 1
    # their next request is logged out, and they cannot log back in
    assert victim_client.get("/chat/").status_code == 302
    rows = audit_rows(app, action="user.deactivate")
    assert [(r.actor_id, r.target_id, r.reason) for r in rows] == [(mod.id, victim.id, "spamming")]
    # reactivation is audited too
    client.post(
        f"/dashboard/users/{victim.id}/reactivate",
        data={"reason": "appeal accepted", "csrf_token": csrf_token(client)},
    )
    assert load_user(app, victim.id).is_active is True
    assert [r.reason for r in audit_rows(app, action="user.reactivate")] == ["appeal accepted"]


def test_deactivation_needs_a_reason_and_changes_nothing_without(app, client, factory, login_as):
    target = factory.user()
    login_as("moderator")
    resp = client.post(
        f"/dashboard/users/{target.id}/deactivate",
        data={"reason": "   ", "csrf_token": csrf_token(client)},
        headers=HTMX,
    )
    assert resp.status_code == 422
    assert "Give a reason." in resp.get_data(as_text=True)
    assert load_user(app, target.id).is_active is True
    assert audit_rows(app) == []


def test_staff_cannot_deactivate_themselves_or_change_their_own_role(app, client, login_as):
    me = login_as("admin")
    token = csrf_token(client)
    resp = client.post(
        f"/dashboard/users/{me.id}/deactivate", data={"reason": "oops", "csrf_token": token}
    )
    assert resp.status_code == 403
    html = resp.get_data(as_text=True)
    assert 'role="alert"' in html and "You cannot deactivate your own account." in html
    resp = client.post(
        f"/dashboard/users/{me.id}/role", data={"role": "user", "csrf_token": token}, headers=HTMX
    )
    assert resp.status_code == 403
    assert "You cannot change the role of your own account." in resp.get_data(as_text=True)
    stored = load_user(app, me.id)
    assert stored.is_active and stored.role == "admin"
    assert audit_rows(app) == []
    assert client.get("/dashboard/").status_code == 200  # still logged in


def test_moderators_cannot_deactivate_staff(app, client, factory, login_as):
    staff = factory.user(role="support")
    login_as("moderator")
    resp = client.post(
        f"/dashboard/users/{staff.id}/deactivate",
        data={"reason": "no", "csrf_token": csrf_token(client)},
    )
    assert resp.status_code == 403
    assert load_user(app, staff.id).is_active is True


def test_admin_changes_a_role_which_ends_their_sessions(app, client, factory, login_as):
    target = factory.user(username="promoted", password=TEST_PASSWORD)
    tc = app.test_client()
    tc.post(
        "/login",
        data={
            "username": "promoted",
            "password": TEST_PASSWORD,
            "csrf_token": get_csrf(tc, "/login"),
        },
    )
    assert tc.get("/chat/").status_code == 200
    admin = login_as("admin")
    resp = client.post(
        f"/dashboard/users/{target.id}/role",
        data={"role": "moderator", "reason": "new hire", "csrf_token": csrf_token(client)},
        headers=HTMX,
    )
    assert resp.status_code == 200 and "now moderator" in resp.headers["HX-Trigger"]
    assert load_user(app, target.id).role == "moderator"
    assert tc.get("/chat/").status_code == 302  # logged out: the new role needs a new login
    (row,) = audit_rows(app, action="user.role")
    assert (row.actor_id, row.target_id, row.reason) == (admin.id, target.id, "new hire")
    assert row.details == {"from": "user", "to": "moderator"}
    bad = client.post(
        f"/dashboard/users/{target.id}/role",
        data={"role": "overlord", "csrf_token": csrf_token(client)},
        headers=HTMX,
    )
    assert bad.status_code == 422 and "Unknown role." in bad.get_data(as_text=True)
    no_reason = client.post(
        f"/dashboard/users/{target.id}/role",
        data={"role": "admin", "reason": "", "csrf_token": csrf_token(client)},
        headers=HTMX,
    )
    assert no_reason.status_code == 422 and "Give a reason." in no_reason.get_data(as_text=True)
    assert load_user(app, target.id).role == "moderator"
    assert len(audit_rows(app, action="user.role")) == 1


def test_admin_creates_a_staff_account(app, client, login_as):
    admin = login_as("admin")
    page = client.get("/dashboard/users").get_data(as_text=True)
    assert "Add a staff account" in page
    data = {
        "username": "newmod",
        "email": "newmod@example.test",
        "password": "long enough pw",
        "role": "moderator",
        "csrf_token": csrf_token(client),
    }
    resp = client.post("/dashboard/users/new", data=data)
    assert resp.status_code == 303
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == "newmod"))
        assert user.role == "moderator" and user.check_password("long enough pw")
    (row,) = audit_rows(app, action="user.create")
    assert row.actor_id == admin.id and row.target_id == user.id
    again = client.post("/dashboard/users/new", data=data, headers=HTMX)
    assert again.status_code == 422
    body = again.get_data(as_text=True)
    assert "That username is already taken." in body and 'aria-invalid="true"' in body
    short = client.post(
        "/dashboard/users/new",
        data={**data, "username": "other", "email": "o@example.test", "password": "short"},
        headers=HTMX,
    )
    assert short.status_code == 422 and "8 to 512 characters." in short.get_data(as_text=True)
    assert len(audit_rows(app, action="user.create")) == 1


def test_users_and_presence_queries_do_not_grow_with_the_page(
    app, client, factory, login_as, monkeypatch
):
    from dashboard.models import utcnow

    from .pages_support import count_queries

    login_as("support")
    for n in range(10):
        u = factory.user(username=f"q{n:02d}", last_seen_at=utcnow())
        presence.connect(u.id, f"s{n}")
    counts = {}
    for size in (2, 10):
        monkeypatch.setattr(user_queries, "PAGE_SIZE", size)
        n1, r1 = count_queries(app, lambda: client.get("/dashboard/users?q=q"))
        n2, r2 = count_queries(app, lambda: client.get("/dashboard/presence"))
        assert len(usernames(r1.get_data(as_text=True))) == size
        assert len(usernames(r2.get_data(as_text=True))) == 10 + size  # all online, a page seen
        counts[size] = (n1, n2)
    assert counts[2] == counts[10], counts
