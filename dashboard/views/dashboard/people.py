"""People: who is online, the users list, a user's page and the staff actions on accounts."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ...auth import role_required, staff_required
from ...forms import (
    CleanupForm,
    ReasonForm,
    RoleForm,
    StaffAccountForm,
    UserFilterForm,
    query_form,
)
from ...models import User
from ...services import cleanup as cleanup_service
from ...services import staff_rules
from ...services import users as users_service
from ...services.errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..htmx import is_partial, target, with_toast
from .blueprint import bp


@bp.app_template_global()
def account_refusal(action: str, target: User) -> tuple[str, str] | None:
    """Why the current user may not do `action` to `target` (the staff rules), or None."""
    return staff_rules.refusal(current_user, action, target)


@bp.get("/presence")
@staff_required
def presence() -> ResponseReturnValue:
    """Everyone online now and who was seen recently (htmx refreshes it on presence events)."""
    cursor = request.args.get("cursor") or None
    recent = users_service.recently_seen(cursor)
    if is_partial() and cursor:
        return render_template("dashboard/_presence_recent_rows.html", recent=recent)
    online, online_total = users_service.online_users()
    ctx = {"online": online, "online_total": online_total, "recent": recent}
    if is_partial():
        return render_template("dashboard/_presence.html", **ctx)
    return render_template("dashboard/presence.html", **ctx)


def _user_filters() -> users_service.UserFilters:
    return users_service.UserFilters(**query_form(UserFilterForm, request.args).data)


@bp.get("/users")
@staff_required
def users() -> ResponseReturnValue:
    """Users with filters by role, active, online and text; keyset pages by username."""
    filters = _user_filters()
    cursor = request.args.get("cursor") or None
    page = users_service.list_users(filters, cursor)
    ctx = {"filters": filters, "page": page}
    if is_partial() and cursor:
        return render_template("dashboard/_user_rows.html", **ctx)
    if target() == "user-results":
        return render_template("dashboard/_user_results.html", **ctx)
    return render_template("dashboard/users.html", create_form=StaffAccountForm(), **ctx)


@bp.post("/users/new")
@role_required("admin")
def user_create() -> ResponseReturnValue:
    """An admin creates a staff account (audited as user.create)."""
    form = StaffAccountForm()
    errors: dict[str, str] = {}
    message = None
    if form.validate_on_submit():
        try:
            user = users_service.create_user(
                form.username.data or "",
                email=form.email.data,
                password=form.password.data,
                role=form.role.data,
                actor=current_user,
            )
        except (ValidationFailed, Conflict) as exc:
            message = exc.message
            errors = exc.details.get("fields", {})
        else:
            text = f"Created {user.role} account {user.username}."
            if is_partial():
                resp = with_toast("", text)
                resp.headers["HX-Redirect"] = url_for("dashboard.user_detail", user_id=user.id)
                return resp
            flash(text, "success")
            return redirect(url_for("dashboard.user_detail", user_id=user.id), 303)
    else:
        message = "Check the fields below."
        errors = {name: "; ".join(errs) for name, errs in form.errors.items()}
    ctx = {"create_form": form, "create_errors": errors, "create_message": message}
    if is_partial():
        return render_template("dashboard/_user_create.html", **ctx), 422
    page = users_service.list_users(users_service.UserFilters())
    return render_template(
        "dashboard/users.html", filters=users_service.UserFilters(), page=page, **ctx
    ), 422


def _admin_panel(user_id: str, **ctx: Any) -> ResponseReturnValue:
    detail = users_service.user_detail(user_id, threads=0, messages=0)
    role_form = ctx.pop("role_form", None) or RoleForm(formdata=None, role=detail.user.role)
    return render_template(
        "dashboard/_user_admin.html",
        detail=detail,
        reason_form=ctx.pop("reason_form", None) or ReasonForm(formdata=None),
        role_form=role_form,
        **ctx,
    )


@bp.get("/users/<user_id>")
@staff_required
def user_detail(user_id: str) -> ResponseReturnValue:
    """One user: their threads, recent messages, presence, last login, and staff actions."""
    detail = users_service.user_detail(user_id)
    return render_template(
        "dashboard/user.html",
        detail=detail,
        reason_form=ReasonForm(formdata=None),
        role_form=RoleForm(formdata=None, role=detail.user.role),
        cleanup_form=CleanupForm(formdata=None),
        cleanups=cleanup_service.recent(user_id) if current_user.has_role("moderator") else [],
    )


def _account_action(user_id: str, action: str) -> ResponseReturnValue:
    """Run one account action from its form; answer with the refreshed panel and a toast."""
    reason_form = ReasonForm()
    role_form = RoleForm(formdata=None) if action != "role" else RoleForm()
    error = None
    status = 200
    try:
        if action == "role":
            user = users_service.change_role(
                current_user, user_id, role_form.role.data or "", role_form.reason.data
            )
            text = f"{user.username} is now {user.role}."
        else:
            user = users_service.set_active(
                current_user, user_id, action == "reactivate", reason_form.reason.data
            )
            text = f"{user.username} was {action}d."
    except (ValidationFailed, Forbidden) as exc:
        if isinstance(exc, Forbidden) and exc.details.get("reason") != "self":
            raise  # not allowed at all: the 403 page or fragment
        error, status = exc.message, exc.status
    if error is None:
        if not is_partial():
            flash(text, "success")
            return redirect(url_for("dashboard.user_detail", user_id=user_id), 303)
        body = _admin_panel(user_id, oob=True)  # the header badges change too
        return with_toast(body, text)
    if is_partial():
        return _admin_panel(
            user_id, error=error, error_action=action, reason_form=reason_form, role_form=role_form
        ), status
    detail = users_service.user_detail(user_id)
    return render_template(
        "dashboard/user.html",
        detail=detail,
        error=error,
        error_action=action,
        reason_form=reason_form,
        role_form=role_form if action == "role" else RoleForm(formdata=None, role=detail.user.role),
    ), status


@bp.post("/users/<user_id>/deactivate")
@role_required("moderator")
def user_deactivate(user_id: str) -> ResponseReturnValue:
    """Deactivate a user: their sessions and sockets end at once (reason required, audited)."""
    return _account_action(user_id, "deactivate")


@bp.post("/users/<user_id>/reactivate")
@role_required("moderator")
def user_reactivate(user_id: str) -> ResponseReturnValue:
    """Reactivate a user (reason required, audited)."""
    return _account_action(user_id, "reactivate")


@bp.post("/users/<user_id>/role")
@role_required("admin")
def user_role(user_id: str) -> ResponseReturnValue:
    """Give a user another role (admins only, audited; their sessions end)."""
    return _account_action(user_id, "role")


def _cleanup_panel(user_id: str, **ctx: Any) -> str:
    detail = users_service.user_detail(user_id, threads=0, messages=0)
    html = render_template(
        "dashboard/_user_cleanup.html",
        detail=detail,
        cleanup_form=ctx.pop("cleanup_form", None) or CleanupForm(formdata=None),
        cleanups=cleanup_service.recent(user_id),
        **ctx,
    )
    if ctx.get("oob"):  # the account changed too: its panel follows, out of band
        html += render_template(
            "dashboard/_user_admin.html",
            detail=detail,
            reason_form=ReasonForm(formdata=None),
            role_form=RoleForm(formdata=None, role=detail.user.role),
            panel_oob=True,
        )
    return html


@bp.post("/users/<user_id>/cleanup")
@role_required("moderator")
def user_cleanup(user_id: str) -> ResponseReturnValue:
    """Hide all of a user's messages in a time window, maybe deactivate them (one audited
    bulk action, undoable); their threads' open chats update live."""
    form = CleanupForm()
    try:
        result = cleanup_service.clean_up(
            current_user,
            user_id,
            window=form.window.data,
            since=form.since.data,
            until=form.until.data,
            reason=form.reason.data,
            deactivate=bool(form.deactivate.data),
        )
    except ValidationFailed as exc:
        if not is_partial():
            flash(exc.message, "error")
            return redirect(url_for("dashboard.user_detail", user_id=user_id), 303)
        panel = _cleanup_panel(
            user_id,
            cleanup_form=form,
            cleanup_error=exc.message,
            cleanup_fields=exc.details.get("fields", {}),
        )
        return panel, 422
    name = result.user.username
    if result.count:
        threads = len(result.thread_ids)
        text = (
            f"Hid {result.count} message{'s' if result.count != 1 else ''} of {name} "
            f"in {threads} thread{'s' if threads != 1 else ''}."
        )
    else:
        text = f"{name} has no visible messages in that window."
    if result.deactivated:
        text += f" {name} was deactivated."
    if not is_partial():
        flash(text, "success")
        return redirect(url_for("dashboard.user_detail", user_id=user_id), 303)
    body = _cleanup_panel(user_id, done=result, oob=result.deactivated)
    return with_toast(body, text)


@bp.post("/users/<user_id>/cleanups/<audit_id>/undo")
@role_required("moderator")
def user_cleanup_undo(user_id: str, audit_id: str) -> ResponseReturnValue:
    """Undo a spam clean-up: exactly the messages it hid come back (audited)."""
    if not any(row.id == audit_id for row, _ in cleanup_service.recent(user_id, limit=100)):
        raise NotFound("There is no such clean-up.")
    try:
        result = cleanup_service.undo(current_user, audit_id, request.form.get("reason"))
    except Conflict as exc:
        if not is_partial():
            flash(exc.message, "error")
            return redirect(url_for("dashboard.user_detail", user_id=user_id), 303)
        return with_toast(_cleanup_panel(user_id), exc.message, 409)
    n = result.count
    text = f"Restored {n} message{'s' if n != 1 else ''} of {result.user.username}."
    if result.reactivated:
        text += f" {result.user.username} was reactivated."
    if not is_partial():
        flash(text, "success")
        return redirect(url_for("dashboard.user_detail", user_id=user_id), 303)
    return with_toast(_cleanup_panel(user_id, oob=result.reactivated), text)
