"""Moderation pages: the open reports queue (resolved inline) and the audit log."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ...auth import role_required, staff_required
from ...forms import AuditFilterForm, ResolveReportForm, query_form
from ...services import audit as audit_service
from ...services import reports
from ...services.errors import BadRequest, ValidationFailed
from ...services.pagination import Page
from ..htmx import is_partial, target, with_toast
from .blueprint import bp


@bp.get("/reports", endpoint="reports")
@staff_required
def reports_queue() -> ResponseReturnValue:
    """Open reports, oldest first (htmx refreshes the queue when a report comes in)."""
    cursor = request.args.get("cursor") or None
    page = reports.open_reports(cursor)
    if is_partial() and cursor:
        return render_template("dashboard/_report_rows.html", page=page)
    if is_partial():
        return render_template("dashboard/_reports.html", page=page)
    return render_template("dashboard/reports.html", page=page)


@bp.post("/reports/<report_id>/resolve")
@role_required("moderator")
def report_resolve(report_id: str) -> ResponseReturnValue:
    """Dismiss a report or hide its message; the row leaves the queue with a toast."""
    form = ResolveReportForm()
    try:
        report = reports.resolve(current_user, report_id, form.action.data or "", form.note.data)
    except ValidationFailed as exc:
        if not is_partial():
            flash(exc.message, "error")
            return redirect(url_for("dashboard.reports"), 303)
        page = reports.open_reports()
        row = next((r for r in page.items if r.id == report_id), None)
        if row is None:
            raise
        return render_template(
            "dashboard/_report_rows.html",
            page=Page([row], None),
            error_for=report_id,
            error=exc.message,
        ), 422
    text = "Report dismissed." if report.state == "dismissed" else "Message hidden; report closed."
    if not is_partial():
        flash(text, "success")
        return redirect(url_for("dashboard.reports"), 303)
    return with_toast("", text)


@bp.get("/audit")
@role_required("moderator")
def audit() -> ResponseReturnValue:
    """The audit log, newest first, filtered by actor, action, target and time."""
    args = request.args
    filters = audit_service.AuditFilters(**query_form(AuditFilterForm, args).data)
    cursor = args.get("cursor") or None
    error, status = None, 200
    try:
        page = audit_service.entries(filters, cursor)
    except BadRequest as exc:
        page, error, status = Page(), exc.message, 400
    ctx = {"filters": filters, "page": page, "actions": audit_service.ACTIONS, "error": error}
    if is_partial() and cursor:
        return render_template("dashboard/_audit_rows.html", **ctx), status
    if target() == "audit-results":
        return render_template("dashboard/_audit_results.html", **ctx), status
    return render_template("dashboard/audit.html", **ctx), status
