"""A user's data on their page (admins only): download it as JSON, or erase it."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, stream_with_context, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ... import events
from ...auth import role_required
from ...forms import CleanupForm, EraseUserForm, ReasonForm, RoleForm
from ...services import cleanup as cleanup_service
from ...services import users as users_service
from ...services.errors import Forbidden, ValidationFailed
from ...services.lifecycle import erasure, user_export
from .blueprint import bp


@bp.post("/users/<user_id>/export")
@role_required("admin")
def user_export_json(user_id: str) -> ResponseReturnValue:
    """Download everything stored about a user as one JSON document (audited)."""
    user = users_service.user_detail(user_id, threads=0, messages=0).user
    chunks = user_export.start_user_export(user, actor=current_user, via="dashboard")
    resp = Response(stream_with_context(chunks), content_type="application/json; charset=utf-8")
    resp.headers["Content-Disposition"] = f'attachment; filename="user-{user.id}.json"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.post("/users/<user_id>/erase")
@role_required("admin")
def user_erase(user_id: str) -> ResponseReturnValue:
    """Erase a user's personal data and files: reason and typed username required (audited)."""
    form = EraseUserForm()
    detail = users_service.user_detail(user_id, threads=0, messages=0)
    username = detail.user.username
    error = None
    if not (form.reason.data or "").strip():
        error = "Give a reason."
    elif detail.user.erased_at is None and (form.confirm.data or "").strip() != username:
        error = f"Type {username} to confirm."
    else:
        try:
            result = erasure.erase_user(
                user_id, actor=current_user, reason=form.reason.data, via="dashboard"
            )
        except (ValidationFailed, Forbidden) as exc:
            if isinstance(exc, Forbidden) and exc.details.get("reason") != "self":
                raise
            error = exc.message
        else:
            if result.profile:
                events.sessions_ended(user_id)
            text = (
                f"Erased {username}: {result.messages} messages blanked, "
                f"{result.files} files removed."
                if result.changed
                else "This account was already erased: nothing changed."
            )
            flash(text, "success")
            return redirect(url_for("dashboard.user_detail", user_id=user_id), 303)
    detail = users_service.user_detail(user_id)
    return render_template(
        "dashboard/user.html",
        detail=detail,
        error=error,
        error_action="erase",
        erase_form=form,
        reason_form=ReasonForm(formdata=None),
        role_form=RoleForm(formdata=None, role=detail.user.role),
        cleanup_form=CleanupForm(formdata=None),
        cleanups=cleanup_service.recent(user_id),
    ), 422
