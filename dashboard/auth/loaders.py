"""How a request or socket finds its user: the session cookie or a Clerk bearer token."""

from __future__ import annotations

import time

from flask import Flask, current_app, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue

from ..extensions import db, login_manager
from ..models import User
from ..services.users import upsert_from_claims
from ..views.htmx import is_partial
from .clerk import TokenError, verify_token
from .jwks import JwksKeys

JWKS_EXTENSION = "chatdesk.jwks"


def load_user(token: str) -> User | None:
    """The session's user from 'id|version|login time' (the session or remember cookie).

    The version must be the stored one (a logout, deactivation or role change bumps it, on
    every process at once since it lives in the database), the login no older than
    SESSION_DAYS, and the user active. Anything else is no user: the caller logs in again.
    """
    parts = token.split("|") if isinstance(token, str) else []
    if len(parts) != 3 or not parts[2].isdigit():
        return None
    user_id, version, issued = parts
    lifetime = current_app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    if not 0 <= time.time() - int(issued) <= lifetime:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or str(user.session_version) != version:
        return None
    user.session_token = token
    return user


def bearer_token() -> str | None:
    """The token of this request's `Authorization: Bearer …` header, if any."""
    header = request.headers.get("Authorization") or ""
    if header[:7].lower() != "bearer ":
        return None
    return header[7:].strip() or None


def user_from_token(token: str) -> User | None:
    """The active user a Clerk session token names (created or updated from it), else None."""
    cfg = current_app.config
    try:
        claims = verify_token(
            token,
            public_key=cfg["CLERK_JWT_KEY"],
            issuer=cfg["CLERK_ISSUER"],
            authorized_parties=cfg["CLERK_AUTHORIZED_PARTIES"],
            jwks=current_app.extensions.get(JWKS_EXTENSION),
        )
    except TokenError as exc:
        current_app.logger.info("refused a Clerk token: %s", exc)
        return None
    existing = db.session.get(User, claims["sub"])
    if existing is not None and not existing.is_active:
        return None
    return upsert_from_claims(claims)


def authenticate_bearer() -> bool | None:
    """For an API request with `Authorization: Bearer`, make its user the caller.

    Returns None without such a header, True when the token verified (that user is the caller,
    whatever cookie came along: one request, one credential), False when it did not (the
    request is then answered 401 and the cookie is not consulted).
    """
    if not request.path.startswith("/api/"):
        return None
    token = bearer_token()
    if token is None:
        return None
    user = user_from_token(token)
    if user is None:
        return False
    login_manager._update_request_context_with_user(user)
    return True


def unauthorized() -> ResponseReturnValue:
    """JSON 401 for the API; a redirect to the login page (with `next`) for pages."""
    if request.path.startswith("/api/"):
        body = {"error": {"code": "unauthorized", "message": "Log in first.", "details": {}}}
        return jsonify(body), 401
    if is_partial():
        # htmx would swap the login page into a fragment: send the whole window there.
        resp = current_app.response_class(status=401)
        resp.headers["HX-Redirect"] = url_for("auth.login", next=request.full_path.rstrip("?"))
        return resp
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def init_app(app: Flask) -> None:
    """Wire the loaders into Flask-Login."""
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(unauthorized)
    login_manager.session_protection = "basic"
    cfg = app.config
    if cfg["CLERK_JWKS_URL"] and not cfg["CLERK_JWT_KEY"]:
        # Built here, fetched lazily on the first token: no network call in the factory.
        app.extensions[JWKS_EXTENSION] = JwksKeys(
            cfg["CLERK_JWKS_URL"],
            ttl=cfg["CLERK_JWKS_CACHE_SECONDS"],
            min_refresh=cfg["CLERK_JWKS_MIN_REFRESH_SECONDS"],
        )
    if (cfg["CLERK_JWT_KEY"] or cfg["CLERK_JWKS_URL"]) and not cfg["CLERK_AUTHORIZED_PARTIES"]:
        # Clerk's docs: without an azp check a token minted for another site is accepted.
        app.logger.warning(
            "CLERK_AUTHORIZED_PARTIES is empty: session tokens from any origin are accepted "
            "(a CSRF risk); set it to your app's origins"
        )
