"""Moderation pages: the open reports queue (resolved inline), the audit log, watched words."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ...auth import role_required, staff_required
from ...forms import AuditFilterForm, ResolveReportForm, WatchedWordForm, query_form
from ...services import audit as audit_service
from ...services import reports, watched_words
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
        reports.resolve(current_user, report_id, form.action.data or "", form.note.data)
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
            chosen=form.action.data,
        ), 422
    text = {
        "dismiss": "Report dismissed.",
        "hide": "Message hidden; report closed.",
        "archive": "Thread archived; report closed.",
    }.get(form.action.data or "", "Report resolved.")
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
    ctx = {
        "filters": filters,
        "page": page,
        "actions": audit_service.ACTIONS,
        "error": error,
        "targets": audit_service.describe_targets(page.items),
    }
    if is_partial() and cursor:
        return render_template("dashboard/_audit_rows.html", **ctx), status
    if target() == "audit-results":
        return render_template("dashboard/_audit_results.html", **ctx), status
    return render_template("dashboard/audit.html", **ctx), status


def _watched_page(form: WatchedWordForm | None = None, **ctx: object) -> dict[str, object]:
    return {
        "form": form or WatchedWordForm(formdata=None),
        "page": watched_words.list_rules(),
        "total": watched_words.count_rules(),
        **ctx,
    }


@bp.get("/watched-words")
@role_required("moderator")
def watched_words_list() -> ResponseReturnValue:
    """The watched words: what each matches and does, newest first (keyset pages)."""
    cursor = request.args.get("cursor") or None
    if is_partial() and cursor:
        return render_template(
            "dashboard/_watched_word_rows.html", page=watched_words.list_rules(cursor)
        )
    return render_template("dashboard/watched_words.html", **_watched_page())


@bp.post("/watched-words")
@role_required("moderator")
def watched_word_add() -> ResponseReturnValue:
    """Add a watched word; a bad pattern is shown beside its field (audited)."""
    form = WatchedWordForm()
    if not form.validate():
        errors = {name: "; ".join(errs) for name, errs in form.errors.items()}
        message = "Check the fields below."
    else:
        try:
            rule = watched_words.add_rule(
                current_user, form.kind.data, form.pattern.data, form.action.data
            )
        except ValidationFailed as exc:
            errors, message = exc.details.get("fields", {}), exc.message
        else:
            text = f"Added the {rule.kind} “{rule.pattern}” ({rule.action})."
            if not is_partial():
                flash(text, "success")
                return redirect(url_for("dashboard.watched_words_list"), 303)
            ctx = _watched_page()
            return with_toast(render_template("dashboard/_watched_words.html", **ctx), text)
    ctx = _watched_page(form, errors=errors, message=message)
    template = "_watched_words.html" if is_partial() else "watched_words.html"
    return render_template(f"dashboard/{template}", **ctx), 422


@bp.post("/watched-words/<rule_id>/delete")
@role_required("moderator")
def watched_word_delete(rule_id: str) -> ResponseReturnValue:
    """Delete a watched word (after a confirm; audited)."""
    rule = watched_words.delete_rule(current_user, rule_id)
    text = f"Deleted the {rule.kind} “{rule.pattern}”."
    if not is_partial():
        flash(text, "success")
        return redirect(url_for("dashboard.watched_words_list"), 303)
    return with_toast(render_template("dashboard/_watched_words.html", **_watched_page()), text)
