"""Behind a proxy: with TRUSTED_PROXIES the client's address and scheme come from
X-Forwarded-*; without it those headers are ignored."""

from __future__ import annotations

import re

import pytest

from tests.conftest import TEST_PASSWORD, get_csrf

pytestmark = pytest.mark.sqlite_only
PROXY = {"REMOTE_ADDR": "10.0.0.2"}  # every request arrives from the same proxy


@pytest.fixture
def app_config(app_config):  # type: ignore[no-untyped-def]
    app_config["RATELIMIT_ENABLED"] = True
    return app_config


def failed_logins(client, forwarded_for: str, times: int) -> list[int]:  # type: ignore[no-untyped-def]
    token = get_csrf(client, "/login")
    statuses = []
    for _ in range(times):
        resp = client.post(
            "/login",
            data={"username": "nobody", "password": "wrong", "csrf_token": token},
            headers={"X-Forwarded-For": forwarded_for},
            environ_base=PROXY,
        )
        statuses.append(resp.status_code)
    return statuses


@pytest.mark.parametrize("proxies", [1, 0])
def test_login_rate_limit_counts_per_forwarded_client_only_behind_a_trusted_proxy(
    app_config, proxies, request
):
    app_config["TRUSTED_PROXIES"] = proxies
    client = request.getfixturevalue("client")
    assert failed_logins(client, "203.0.113.1", 11)[-1] == 429  # 10 per minute per address
    other = failed_logins(client, "203.0.113.2", 1)[0]
    if proxies:
        assert other == 401  # a different client behind the same proxy has its own bucket
    else:
        assert other == 429  # the header is ignored: everyone shares the proxy's bucket


@pytest.mark.parametrize("proxies", [1, 0])
def test_hsts_only_on_requests_that_were_https(app_config, proxies, request):
    app_config["TRUSTED_PROXIES"] = proxies
    client = request.getfixturevalue("client")
    https = client.get("/login", headers={"X-Forwarded-Proto": "https"}, environ_base=PROXY)
    plain = client.get("/login", environ_base=PROXY)
    assert "Strict-Transport-Security" not in plain.headers
    if proxies:
        assert https.headers["Strict-Transport-Security"].startswith("max-age=")
        assert 'action="https://' not in https.get_data(as_text=True)  # links stay relative
    else:
        assert "Strict-Transport-Security" not in https.headers


def test_secure_cookies_with_session_cookie_secure(app_config, request):
    app_config.update(TRUSTED_PROXIES=1, SESSION_COOKIE_SECURE=True)
    app_config.pop("REMEMBER_COOKIE_SECURE", None)
    client = request.getfixturevalue("client")
    user = request.getfixturevalue("factory").user(password=TEST_PASSWORD)
    # The browser is on https:// behind the proxy (the test client keeps Secure
    # cookies for https URLs only, as a browser does).
    https = {"X-Forwarded-Proto": "https", "Referer": "https://localhost/login"}
    page = client.get("/login", base_url="https://localhost", headers=https, environ_base=PROXY)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    resp = client.post(
        "/login",
        base_url="https://localhost",
        data={
            "username": user.username,
            "password": TEST_PASSWORD,
            "remember": "y",
            "csrf_token": token,
        },
        headers=https,
        environ_base=PROXY,
    )
    assert resp.status_code == 302
    cookies = {c.split("=", 1)[0]: c for c in resp.headers.getlist("Set-Cookie")}
    assert "Secure" in cookies["session"]
    assert "Secure" in cookies["remember_token"]
    assert resp.headers["Strict-Transport-Security"]
