"""Chatdesk: an operator dashboard, a JSON API and Socket.IO chat on one Flask app.

`create_app()` is the factory: settings, extensions, blueprints, sockets, CLI, error pages and
security headers, in that order. The subpackages are layers, lowest first: `models`, then
`services`, then `auth`, `views`, `api` and `realtime` (docs/architecture.md). This module
wires every layer, so it imports them all; no module of the package imports from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from . import cli, errors, faults, ops, realtime
from .api import bp as api_bp
from .auth import bp as auth_bp
from .auth import loaders
from .auth.loaders import authenticate_bearer
from .config import load_config
from .extensions import csrf, db, htmx, limiter, migrate, socketio
from .ops import concurrency, logs
from .payloads.http import StrictJSONProvider
from .payloads.sockets import StrictPacket
from .views import filters
from .views.chat import bp as chat_bp
from .views.dashboard import bp as dashboard_bp
from .views.main import bp as main_bp
from .views.search import bp as search_bp
from .webhooks import CSRF_EXEMPT
from .webhooks import bp as webhooks_bp

PROJECT_DIR = Path(__file__).resolve().parent.parent

# The app's own origin only: 'self' covers same-origin ws:/wss: in CSP Level 3 browsers, and
# images from elsewhere are shown as links (no tracking pixels, no mixed content).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints, sockets, CLI and error pages."""
    app = Flask(
        __name__,
        instance_path=str(PROJECT_DIR / "instance"),
        template_folder=str(PROJECT_DIR / "templates"),
        static_folder=str(PROJECT_DIR / "static"),
    )
    app.config.update(load_config(app.instance_path, overrides=config))
    app.json = StrictJSONProvider(app)
    logs.init_app(app)
    _init_rate_limits(app)
    concurrency.make_cooperative()

    _init_database(app)
    migrate.init_app(app, db, directory=str(PROJECT_DIR / "migrations"), render_as_batch=True)
    loaders.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    # Flask-SocketIO keeps the first app's message queue in server_options: start afresh, so
    # an app without REDIS_URL never talks to the previous app's Redis (tests build many apps).
    socketio.server_options.pop("client_manager", None)
    socketio.init_app(
        app,
        # The server that runs the app decides (gunicorn's gevent worker, or threads).
        async_mode=concurrency.async_mode(),
        message_queue=app.config["REDIS_URL"],
        cors_allowed_origins=app.config.get("SOCKETIO_CORS_ORIGINS"),
        logger=False,
        engineio_logger=False,
        serializer=StrictPacket,  # strict JSON for every packet (payloads/sockets.py)
    )

    realtime.init_app(app)
    _register_blueprints(app)
    filters.init_app(app)
    _register_security(app)
    errors.init_app(app)
    cli.init_app(app)
    ops.init_app(app)  # last: its middleware wraps Socket.IO's
    return app


def _init_rate_limits(app: Flask) -> None:
    """Shared limits in Redis when configured; while Redis is away, per-process memory."""
    url = app.config["REDIS_URL"]
    app.config.setdefault("RATELIMIT_STORAGE_URI", url or "memory://")
    if url:
        app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
        app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
        app.config.setdefault(
            "RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 1, "socket_timeout": 1}
        )


def _init_database(app: Flask) -> None:
    """Bind Flask-SQLAlchemy; on SQLite turn on foreign keys, WAL and a busy timeout."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    opts = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    if uri.startswith("postgresql"):
        # An unreachable server fails a request in seconds (503), not after the OS timeout.
        opts.setdefault("connect_args", {}).setdefault("connect_timeout", 5)
        opts.setdefault("pool_size", app.config["DATABASE_POOL_SIZE"])
        opts.setdefault("max_overflow", app.config["DATABASE_MAX_OVERFLOW"])
        opts.setdefault("pool_timeout", 10)  # a starved pool answers 503, not a 30 s hang
    if uri.startswith("sqlite"):
        opts.setdefault("connect_args", {}).setdefault("timeout", 30)
        opts["connect_args"].setdefault("check_same_thread", False)
        if uri.startswith("sqlite:///") and uri != "sqlite:///:memory:":
            Path(uri[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    app.teardown_appcontext(faults.release_session)  # runs before Flask-SQLAlchemy's own
    if uri.startswith("sqlite"):
        with app.app_context():
            sa.event.listen(db.engine, "connect", _sqlite_pragmas)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _register_blueprints(app: Flask) -> None:
    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(dashboard_bp, url_prefix="/dashboard")
    app.register_blueprint(search_bp, url_prefix="/dashboard/search")
    app.register_blueprint(chat_bp, url_prefix="/chat")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(webhooks_bp, url_prefix="/webhooks")
    app.jinja_env.globals["has_endpoint"] = lambda endpoint: endpoint in app.view_functions


def _register_security(app: Flask) -> None:
    """Bearer tokens, then CSRF on every unsafe request not authenticated by a valid bearer
    token; strict security headers."""

    @app.before_request
    def check_credentials() -> ResponseReturnValue | None:
        bearer = authenticate_bearer()
        if bearer:
            return None  # authenticated by a verified token: no ambient cookie, no CSRF
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return None
        if request.path.startswith("/api/") and not current_user.is_authenticated:
            return None  # no credential at all (or a refused token): the route answers 401
        if request.endpoint in CSRF_EXEMPT:
            return None  # signed server-to-server deliveries: the signature is the check
        # Cookie requests, a refused token with a session cookie among them, need the token.
        csrf.protect()
        return None

    @app.after_request
    def security_headers(resp: Response) -> Response:
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        if request.is_secure:  # HTTPS as the client saw it (ProxyFix, with TRUSTED_PROXIES)
            resp.headers.setdefault("Strict-Transport-Security", HSTS)
        return resp
