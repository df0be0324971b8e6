"""Login costs the same whether or not the name exists: one password hash is always checked.

Timing itself is not asserted (no timed assertions in tests); what makes the time equal is: every
attempt runs exactly one hash check, of a hash made like the stored ones (same method and cost).
"""

from __future__ import annotations

from typing import Any

import pytest
import werkzeug.security

from dashboard.models import users as user_model
from dashboard.services.users import accounts
from tests.conftest import TEST_PASSWORD, get_csrf

WRONG_PASSWORD = "not the password"


@pytest.fixture
def hash_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The method part (`scrypt:32768:8:1`) of every password hash checked during the test."""
    seen: list[str] = []
    real = werkzeug.security.check_password_hash

    def spy(pwhash: str, password: str) -> bool:
        seen.append(pwhash.split("$", 1)[0])
        return real(pwhash, password)

    for module in (user_model, accounts):  # where check_password_hash is called
        monkeypatch.setattr(module, "check_password_hash", spy, raising=False)
    return seen


def attempt(client: Any, username: str, password: str = WRONG_PASSWORD) -> int:
    csrf = get_csrf(client, "/login")
    data = {"username": username, "password": password, "csrf_token": csrf}
    return client.post("/login", data=data).status_code


def stored_method(factory: Any) -> str:
    return factory.user(password=TEST_PASSWORD).password_hash.split("$", 1)[0]


def test_an_unknown_username_checks_a_hash_like_a_known_one(client, factory, hash_checks):
    method = stored_method(factory)
    known = factory.user(password=TEST_PASSWORD)
    assert attempt(client, known.username) == 401
    assert attempt(client, "nobody-by-that-name") == 401
    assert hash_checks == [method, method]


def test_an_unknown_email_checks_a_hash_too(client, factory, hash_checks):
    method = stored_method(factory)
    assert attempt(client, "ghost@example.test") == 401
    assert hash_checks == [method]


def test_an_account_without_a_local_password_checks_a_hash_too(client, factory, hash_checks):
    """A Clerk-only account has no password hash: refused at the same cost."""
    method = stored_method(factory)
    clerk_only = factory.user()
    assert attempt(client, clerk_only.username) == 401
    assert hash_checks == [method]


def test_a_deactivated_account_costs_the_same_and_is_refused_with_the_right_password(
    client, factory, hash_checks
):
    method = stored_method(factory)
    gone = factory.user(password=TEST_PASSWORD, is_active=False)
    assert attempt(client, gone.username, TEST_PASSWORD) == 401
    assert hash_checks == [method]


def test_the_right_password_still_logs_in_after_failed_attempts(client, factory, hash_checks):
    user = factory.user(password=TEST_PASSWORD)
    assert attempt(client, "nobody-by-that-name") == 401
    assert attempt(client, user.username, TEST_PASSWORD) == 302
    assert len(hash_checks) == 2
