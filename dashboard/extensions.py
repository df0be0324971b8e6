"""Flask extensions, created unbound here and bound to the app in create_app()."""

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from flask import current_app, has_app_context
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

T = TypeVar("T")

# Stable constraint names, so migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING))

if TYPE_CHECKING:
    # db.Model is made at run time, so a type checker cannot see it; models subclass this name.
    class Model(DeclarativeBase):
        metadata = MetaData(naming_convention=NAMING)

else:
    Model = db.Model

migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
socketio = SocketIO()
htmx = Htmx()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def redis_helper(key: str, make: Callable[[str, int], T]) -> T | None:
    """This app's Redis-backed helper stored under `key`, made on first use by `make(url, ttl)`.

    None outside an app context or without REDIS_URL (the callers then keep state in memory).
    Presence and realtime's socket registry share this, each with a store of its own.
    """
    if not has_app_context():
        return None
    app = current_app
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    helper = app.extensions.get(key)
    if helper is None:
        helper = make(url, int(app.config.get("PRESENCE_TTL", 30)))
        app.extensions[key] = helper
    return helper
