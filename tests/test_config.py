"""Settings come from the environment, typed, and fail clearly."""

import pytest

from dashboard.config import ConfigError, load_config, normalize_database_url, parse_bool, parse_int


def test_secret_key_is_required_outside_debug_and_testing(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        load_config(str(tmp_path), env={})


def test_testing_without_secret_gets_a_random_key_never_a_fixed_one(tmp_path):
    a = load_config(str(tmp_path), env={}, overrides={"TESTING": True})["SECRET_KEY"]
    b = load_config(str(tmp_path), env={}, overrides={"TESTING": True})["SECRET_KEY"]
    assert a and b and a != b


def test_defaults_use_sqlite_in_instance(tmp_path):
    cfg = load_config(str(tmp_path), env={"SECRET_KEY": "s"})
    assert cfg["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/chatdesk.db"
    assert cfg["REDIS_URL"] is None
    assert cfg["MAX_UPLOAD_BYTES"] == 10 * 1024 * 1024
    assert cfg["PORT"] == 5000


def test_postgres_urls_pin_psycopg2():
    assert normalize_database_url("postgres://u@h/db") == "postgresql+psycopg2://u@h/db"
    assert normalize_database_url("postgresql://u@h/db") == "postgresql+psycopg2://u@h/db"
    assert normalize_database_url("sqlite:///x.db") == "sqlite:///x.db"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MAX_UPLOAD_BYTES": "lots"}, "MAX_UPLOAD_BYTES must be an integer"),
        ({"PORT": "70000"}, "PORT must be between 1 and 65535"),
        ({"SESSION_COOKIE_SECURE": "maybe"}, "SESSION_COOKIE_SECURE must be a boolean"),
    ],
)
def test_malformed_settings_fail_with_the_setting_named(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message):
        load_config(str(tmp_path), env={"SECRET_KEY": "s", **env})


def test_parsers():
    assert parse_bool("X", "Yes") is True
    assert parse_bool("X", None, default=True) is True
    assert parse_int("X", " ", 3, lo=0, hi=5) == 3
    assert load_config("/i", env={"SECRET_KEY": "s", "CLERK_AUTHORIZED_PARTIES": "a, ,b"})[
        "CLERK_AUTHORIZED_PARTIES"
    ] == ["a", "b"]


def test_lifecycle_settings(tmp_path):
    cfg = load_config(str(tmp_path), env={"SECRET_KEY": "s"})
    assert cfg["RETENTION_ARCHIVED_DAYS"] is None  # unset: keep every archive
    assert cfg["CLERK_DELETE_ERASES"] is True
    assert cfg["CLERK_JWKS_URL"] is None and cfg["CLERK_WEBHOOK_SECRET"] is None
    cfg = load_config(
        str(tmp_path),
        env={
            "SECRET_KEY": "s",
            "RETENTION_ARCHIVED_DAYS": "90",
            "CLERK_DELETE_ERASES": "false",
            "CLERK_JWKS_URL": "https://clerk.example.test/.well-known/jwks.json",
        },
    )
    assert cfg["RETENTION_ARCHIVED_DAYS"] == 90 and cfg["CLERK_DELETE_ERASES"] is False
    for bad in ("0", "ninety"):
        with pytest.raises(ConfigError, match="RETENTION_ARCHIVED_DAYS"):
            load_config(str(tmp_path), env={"SECRET_KEY": "s", "RETENTION_ARCHIVED_DAYS": bad})
