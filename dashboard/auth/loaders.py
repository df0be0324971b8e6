"""How a request or socket finds its user: the session cookie or a Clerk bearer token."""

from __future__ import annotations

from flask import Flask, current_app, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue

from ..extensions import db, login_manager
from ..models import User
from ..services.users import upsert_from_claims
from ..views.htmx import is_partial
from .clerk import TokenError, verify_token


def load_user(token: str) -> User | None:
    """The session's user: 'id|version' must match the stored version and the user be active."""
    user_id, _, version = token.partition("|")
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or str(user.session_version) != version:
        return None
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
        )
    except TokenError as exc:
        current_app.logger.info("refused a Clerk token: %s", exc)
        return None
    existing = db.session.get(User, claims["sub"])
    if existing is not None and not existing.is_active:
        return None
    return upsert_from_claims(claims)


def load_user_from_request(_request: object) -> User | None:
    """API callers may authenticate with a Clerk session token instead of the cookie."""
    token = bearer_token()
    return user_from_token(token) if token else None


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
    login_manager.request_loader(load_user_from_request)
    login_manager.unauthorized_handler(unauthorized)
    login_manager.session_protection = "basic"
