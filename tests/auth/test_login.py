"""One login page for staff and end users; logout; `next`; deactivated accounts."""

import pytest
import sqlalchemy as sa

from dashboard import create_app
from dashboard.extensions import db
from dashboard.models import User
from tests.conftest import TEST_PASSWORD, get_csrf


def post_login(client, username, password=TEST_PASSWORD, **extra):
    csrf = get_csrf(client, "/login")
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf, **extra}
    )


def test_login_page_has_the_spec_fields(client):
    html = client.get("/login").get_data(as_text=True)
    for name in ("username", "password", "remember", "csrf_token"):
        assert f'name="{name}"' in html


@pytest.mark.parametrize(
    ("role", "home"), [("user", "/chat/"), ("support", "/dashboard/"), ("admin", "/dashboard/")]
)
def test_login_goes_to_the_users_home(client, factory, role, home):
    user = factory.user(role=role, password=TEST_PASSWORD)
    resp = post_login(client, user.username)
    assert resp.status_code == 302 and resp.headers["Location"] == home
    assert client.get(home).status_code == 200


def test_login_by_email_any_case_and_last_login_is_stamped(app, client, factory):
    user = factory.user(password=TEST_PASSWORD, email="Mixed.Case@Example.test")
    assert post_login(client, "mixed.case@example.TEST").status_code == 302
    with app.app_context():
        assert db.session.get(User, user.id).last_login_at is not None


def test_unknown_user_and_wrong_password_get_the_same_answer(client, factory):
    user = factory.user(password=TEST_PASSWORD)
    a = post_login(client, "nobody-here", "whatever-password")
    b = post_login(client, user.username, "wrong-password")
    assert a.status_code == b.status_code == 401
    assert "Wrong username or password." in a.get_data(as_text=True)
    assert "Wrong username or password." in b.get_data(as_text=True)
    assert client.get("/chat/").status_code == 302  # still logged out


def test_next_is_followed_only_on_this_site(client, factory):
    user = factory.user(password=TEST_PASSWORD)
    assert post_login(client, user.username, next="/chat/?x=1").headers["Location"] == "/chat/?x=1"
    client.post("/logout", data={"csrf_token": get_csrf(client, "/logout")})
    for evil in (
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
    ):
        resp = post_login(client, user.username, next=evil)
        assert resp.headers["Location"] == "/chat/", evil
        client.post("/logout", data={"csrf_token": get_csrf(client, "/logout")})


def test_anonymous_page_request_goes_to_login_with_next(client):
    resp = client.get("/dashboard/")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/login?next=/dashboard/")


def test_logout_needs_a_post_with_csrf_and_ends_the_session(client, login_as):
    login_as("user")
    assert client.post("/logout").status_code == 400  # no CSRF token: refused
    assert client.get("/chat/").status_code == 200
    resp = client.post("/logout", data={"csrf_token": get_csrf(client, "/logout")})
    assert resp.status_code == 302
    assert client.get("/chat/").status_code == 302


def test_login_without_csrf_is_refused(client, factory):
    user = factory.user(password=TEST_PASSWORD)
    resp = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    assert resp.status_code == 400
    assert client.get("/chat/").status_code == 302


def test_deactivated_user_cannot_log_in_and_their_session_ends(app, client, login_as, factory):
    user = login_as("user")
    assert client.get("/chat/").status_code == 200
    with app.app_context():
        u = db.session.get(User, user.id)
        u.is_active = False
        u.session_version += 1
        db.session.commit()
    assert client.get("/chat/").status_code == 302  # the old session no longer loads
    resp = post_login(client, user.username)
    assert resp.status_code == 401


def test_remember_me_sets_a_remember_cookie(client, factory):
    user = factory.user(password=TEST_PASSWORD)
    post_login(client, user.username, remember="y")
    assert client.get_cookie("remember_token") is not None


def test_password_is_stored_hashed(app, factory):
    user = factory.user(password=TEST_PASSWORD)
    with app.app_context():
        stored = db.session.scalar(sa.select(User.password_hash).where(User.id == user.id))
    assert stored and TEST_PASSWORD not in stored


def test_repeated_login_attempts_are_rate_limited(app_config, factory):
    limited = create_app({**app_config, "RATELIMIT_ENABLED": True})
    client = limited.test_client()
    user = factory.user(password=TEST_PASSWORD)
    codes = [post_login(client, user.username, "wrong-password").status_code for _ in range(11)]
    assert codes[:10] == [401] * 10 and codes[10] == 429
    assert "Too many requests" in post_login(client, user.username).get_data(as_text=True)
