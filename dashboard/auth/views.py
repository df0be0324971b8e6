"""The login page shared by staff and end users, and logout."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user

from ..extensions import limiter
from ..forms import ConfirmForm, LoginForm
from ..models import User
from ..services import users as users_service

bp = Blueprint("auth", __name__)

LOGIN_FAILED = "Wrong username or password."


def safe_next(target: str | None) -> str | None:
    """`target` when it is a path on this site, else None (no open redirects)."""
    if not target:
        return None
    target = target.strip()
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    return target


def home_for(user: User) -> str:
    """Where a user lands after login: staff on the dashboard, end users in the chat."""
    return url_for("dashboard.overview") if user.is_staff else url_for("chat.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])  # slows password guessing per address
def login() -> ResponseReturnValue:
    """Show the login form; on a valid POST log in and go to `next` or the user's home."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
        if current_user.is_authenticated:
            return redirect(safe_next(form.next.data) or home_for(current_user))
    if form.validate_on_submit():
        user = users_service.authenticate(form.username.data or "", form.password.data or "")
        if user is None:
            form.password.errors = [*form.password.errors, LOGIN_FAILED]
            return render_template("auth/login.html", form=form, failed=True), 401
        login_user(user, remember=form.remember.data)
        users_service.record_login(user)
        return redirect(safe_next(form.next.data) or home_for(user))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> ResponseReturnValue:
    """GET asks to confirm; POST (with its CSRF token) ends the session."""
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        if current_user.is_authenticated:
            # Clearing this browser's cookie is not enough: a copy of it (or of the remember
            # cookie) would still log in. The version bump ends them on every process.
            users_service.end_sessions(current_user._get_current_object())
        logout_user()
        flash("You are logged out.", "info")
        return redirect(url_for("auth.login"))
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return render_template("auth/logout.html", form=form)
