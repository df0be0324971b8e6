"""Fixtures in flaskr's style: app, client, runner, login_as, factories, live_server, browser.

Every test that takes `app` runs once on SQLite (a fresh migrated file per test) and once on
PostgreSQL (one migrated throwaway database per run, truncated after each test). PostgreSQL comes
from TEST_DATABASE_URL, else the local server at 127.0.0.1:5432. Under CI=true a missing service
fails the run instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from dashboard import create_app
from dashboard.extensions import db
from dashboard.services import presence

from .factories import Factory

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_SERVER_URL = (
    os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
OUTPUT_DIR = Path(os.environ.get("TEST_OUTPUT_DIR") or Path(__file__).parent.parent / "test-output")
BACKENDS = ("sqlite", "postgresql")
TEST_PASSWORD = "correct horse battery"


def missing_service(what: str) -> None:
    """Fail under CI (a skip there hides a broken setup); skip on a developer's machine."""
    if CI:
        pytest.fail(f"{what} is required under CI=true", pytrace=False)
    pytest.skip(f"{what} is not available")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that uses the database on each backend its markers allow."""
    if "backend" not in metafunc.fixturenames:
        return
    backends = list(BACKENDS)
    if metafunc.definition.get_closest_marker("sqlite_only"):
        backends = ["sqlite"]
    if metafunc.definition.get_closest_marker("postgres_only"):
        backends = ["postgresql"]
    metafunc.parametrize("backend", backends, scope="function")


def _migrate(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "migrate"})
    with app.app_context():
        upgrade()
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies (faster than migrating per test)."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A throwaway migrated PostgreSQL database for this run (dropped at the end)."""
    from dashboard.config import normalize_database_url

    server = normalize_database_url(PG_SERVER_URL)
    try:
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:
        missing_service(f"PostgreSQL at {PG_SERVER_URL} ({type(exc).__name__})")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"chatdesk_test_{worker}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        _migrate(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _truncate_all(app: Flask) -> None:
    with app.app_context():
        tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        db.session.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.session.commit()


@pytest.fixture
def database_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> str:
    """The database URL for this test on its backend, empty and migrated."""
    if backend == "sqlite":
        path = tmp_path / "chatdesk.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("pg_database")


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict[str, Any]:
    """Settings for the test app; tests may update it before `app` is first used."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "RATELIMIT_ENABLED": False,
        "REDIS_URL": None,
    }


@pytest.fixture
def app(app_config: dict[str, Any], backend: str) -> Iterator[Flask]:
    """A fresh app on a fresh database."""
    app = create_app(app_config)
    app.config["BACKEND"] = backend
    yield app
    # Presence lives in process memory without Redis: a live server's sockets from this test
    # must not count as online in the next one.
    with app.app_context():
        presence.reset()
    if backend == "postgresql":
        _truncate_all(app)
    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client (cookies kept between requests)."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    """A click runner for the app's CLI."""
    return app.test_cli_runner()


@pytest.fixture
def factory(app: Flask) -> Factory:
    """Makes users, threads and messages straight in the database."""
    return Factory(app)


@pytest.fixture
def login_as(client: FlaskClient, factory: Factory) -> Callable[..., Any]:
    """Log the client in through the login form as a new user with `role`; returns the user."""

    def login(role: str = "user", **kwargs: Any):  # type: ignore[no-untyped-def]
        user = factory.user(role=role, password=TEST_PASSWORD, **kwargs)
        csrf = get_csrf(client, "/login")
        resp = client.post(
            "/login",
            data={"username": user.username, "password": TEST_PASSWORD, "csrf_token": csrf},
        )
        assert resp.status_code == 302, resp.get_data(as_text=True)
        return user

    return login


def get_csrf(client: FlaskClient, path: str) -> str:
    """The CSRF token from the form on `path` (the session cookie keeps it valid)."""
    import re

    html = client.get(path).get_data(as_text=True)
    m = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'"X-CSRFToken": "([^"]+)"', html
    )
    assert m, f"no CSRF token on {path}"
    return m.group(1)


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """The app served over real HTTP and WebSocket on a free loopback port, in a thread."""

    def __init__(self, app: Flask):
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = make_server("127.0.0.1", self.port, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    """The test app on a real server (threaded, with WebSocket support)."""
    server = LiveServer(app).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (no browser download)."""
    if not Path(CHROMIUM).exists():
        missing_service(f"Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context and page; fails the test on any JS dialog (alert = XSS)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    yield page
    context.close()
    assert not dialogs, f"a JavaScript dialog fired: {dialogs}"


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under the test output folder."""
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUTPUT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A Redis database for tests (flushed before use)."""
    import redis

    try:
        client = redis.Redis.from_url(REDIS_TEST_URL)
        client.ping()
        client.flushdb()
    except Exception as exc:
        missing_service(f"Redis at {REDIS_TEST_URL} ({type(exc).__name__})")
    return REDIS_TEST_URL
