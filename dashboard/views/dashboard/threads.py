"""Threads: the staff list with filters and bulk archiving, one thread's page, hiding, export."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import (
    Response,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ...auth import role_required, staff_required
from ...forms import ThreadFilterForm, query_form
from ...models import Message
from ...services import export, moderation, presence
from ...services import threads as threads_service
from ...services.errors import ValidationFailed
from ...services.pagination import BadCursor
from ...services.threads import MessagePage, ThreadFilters
from ..htmx import is_partial, with_toast
from .blueprint import bp

PAGE_SIZE = 50
MESSAGE_PAGE_SIZE = 50
FILTER_FIELDS = (
    "state",
    "participant",
    "creator",
    "created_from",
    "created_to",
    "active_from",
    "active_to",
    "q",
    "sort",
)
DATE_FIELDS = ("created_from", "created_to", "active_from", "active_to")


# -- parsing ----------------------------------------------------------------------------------


def parse_filters(
    values: Mapping[str, str],
) -> tuple[ThreadFilters, dict[str, str], dict[str, str]]:
    """The list's filters from a query string or form: (filters, errors by field, raw values)."""
    form = query_form(ThreadFilterForm, values)
    errors = {name: errs[0] for name, errs in form.errors.items()}
    raw = {name: form[name].data or "" for name in FILTER_FIELDS}
    filters = ThreadFilters(
        state=raw["state"],
        participant=raw["participant"] or None,
        creator=raw["creator"] or None,
        q=raw["q"][:200] or None,
        sort=raw["sort"],
        **{name: form[name].day for name in DATE_FIELDS},
    )
    return filters, errors, raw


def _query_args(raw: Mapping[str, str]) -> dict[str, str]:
    """Non-empty filter values, for building links that keep the filters."""
    return {
        k: v
        for k, v in raw.items()
        if v and not (k == "state" and v == "active") and not (k == "sort" and v == "activity")
    }


def _can_moderate() -> bool:
    return current_user.has_role("moderator")


# -- the list ---------------------------------------------------------------------------------


def _list_context(values: Mapping[str, str], *, cursor: str | None = None) -> dict[str, Any]:
    filters, errors, raw = parse_filters(values)
    page = None
    if not errors:
        try:
            page = threads_service.browse_threads(filters, cursor=cursor, limit=PAGE_SIZE)
        except BadCursor as exc:
            errors["cursor"] = exc.message
    args = _query_args(raw)
    more_url = None
    if page and page.next_cursor:
        more_url = url_for("dashboard.threads", cursor=page.next_cursor, **args)
    return {
        "filters": raw,
        "errors": errors,
        "page": page,
        "more_url": more_url,
        "can_moderate": _can_moderate(),
        "online": presence.online_user_ids(),
    }


@bp.get("/threads")
@staff_required
def threads() -> ResponseReturnValue:
    """Threads, filtered through the query string, newest first, keyset-paginated."""
    ctx = _list_context(request.args, cursor=request.args.get("cursor") or None)
    status = 422 if ctx["errors"] else 200
    if is_partial():
        return render_template("dashboard/_thread_rows.html", **ctx), status
    return render_template("dashboard/threads.html", **ctx), status


@bp.post("/threads/bulk")
@role_required("moderator")
def threads_bulk() -> ResponseReturnValue:
    """Bulk archive/unarchive: the first POST asks to confirm, the confirmed one acts."""
    form = request.form
    action = form.get("action", "")
    ids = [i for i in form.getlist("ids") if i]
    reason = (form.get("reason") or "").strip()
    errors: dict[str, str] = {}
    if action not in ("archive", "unarchive"):
        errors["action"] = "Pick archive or unarchive."
    if not ids:
        errors["ids"] = "Select at least one thread."
    if not reason:
        errors["reason"] = "Give a reason."
    _, _, raw = parse_filters(form)
    bulk = {"action": action, "ids": ids, "reason": reason, "errors": errors, "filters": raw}
    if not errors and form.get("confirm") == "1":
        try:
            changed = threads_service.set_archived(current_user, ids, action == "archive", reason)
        except ValidationFailed as exc:
            errors[str(next(iter(exc.details.get("fields", {})), "form"))] = exc.message
        else:
            verb = "Archived" if action == "archive" else "Unarchived"
            n = len(changed)
            message = f"{verb} {n} thread{'' if n == 1 else 's'}"
            if n < len(ids):
                message += f" ({len(ids) - n} already {action}d)"
            if not is_partial():
                flash(message, "info")
                return redirect(url_for("dashboard.threads", **_query_args(raw)), code=303)
            ctx = _list_context(form)
            html = render_template("dashboard/_thread_rows.html", **ctx)
            return with_toast(html, message, **{"threads:bulk-done": n})
    status = 422 if errors else 200
    if is_partial():
        return render_template("dashboard/_thread_bulk.html", bulk=bulk), status
    ctx = _list_context(form)
    return render_template("dashboard/threads.html", bulk=bulk, **ctx), status


# -- one thread -------------------------------------------------------------------------------


def _message_context(page: MessagePage) -> dict[str, Any]:
    ids = {m.id for m in page.messages}
    children: dict[str, list[Message]] = {}
    roots: list[Message] = []
    for m in page.messages:
        if m.parent_id and m.parent_id in ids:
            children.setdefault(m.parent_id, []).append(m)
        else:
            roots.append(m)
    return {
        "mpage": page,
        "roots": roots,
        "children": children,
        "can_moderate": _can_moderate(),
        # Built once per page: links to messages append ?around=<id> to it.
        "thread_url": url_for("dashboard.thread_detail", thread_id=page.messages[0].thread_id)
        if page.messages
        else None,
    }


def _thread_context(thread_id: str) -> dict[str, Any]:
    row = threads_service.thread_row(thread_id)
    return {
        "thread": row.thread,
        "participants": row.users,
        "online": {u.id for u in row.users if presence.is_online(u.id)},
        "can_moderate": _can_moderate(),
    }


@bp.get("/threads/<thread_id>")
@staff_required
def thread_detail(thread_id: str) -> ResponseReturnValue:
    """One thread: participants with presence, messages oldest first with replies nested."""
    args = request.args
    part = args.get("part")
    if part in ("header", "participants") and is_partial():
        ctx = _thread_context(thread_id)
        return render_template(f"dashboard/_thread_{part}.html", **ctx)
    before, after, around = args.get("before"), args.get("after"), args.get("around")
    ctx = _thread_context(thread_id)
    page = threads_service.thread_messages(
        thread_id, before=before, after=after, around=around, limit=MESSAGE_PAGE_SIZE
    )
    ctx.update(_message_context(page))
    if is_partial() and (before or after):
        ctx["show_earlier"] = bool(before) and page.has_earlier
        ctx["show_later"] = bool(after) and page.has_later
        return render_template("dashboard/_thread_messages.html", **ctx)
    ctx["show_earlier"], ctx["show_later"] = page.has_earlier, page.has_later
    return render_template("dashboard/thread.html", **ctx)


def _set_archived(thread_id: str, archived: bool) -> ResponseReturnValue:
    reason = request.form.get("reason")
    try:
        changed = threads_service.archive_thread(current_user, thread_id, reason, archived)
    except ValidationFailed as exc:
        ctx = _thread_context(thread_id)
        ctx.update(archive_error=exc.message, archive_reason=reason or "")
        if is_partial():
            return render_template("dashboard/_thread_header.html", **ctx), 422
        ctx.update(_message_context(threads_service.thread_messages(thread_id)))
        ctx["show_earlier"], ctx["show_later"] = ctx["mpage"].has_earlier, False
        return render_template("dashboard/thread.html", **ctx), 422
    verb = "archived" if archived else "unarchived"
    message = f"Thread {verb}" if changed else f"The thread was already {verb}"
    if not is_partial():
        flash(message, "info")
        return redirect(url_for("dashboard.thread_detail", thread_id=thread_id), code=303)
    html = render_template("dashboard/_thread_header.html", **_thread_context(thread_id))
    return with_toast(html, message)


@bp.post("/threads/<thread_id>/archive")
@role_required("moderator")
def thread_archive(thread_id: str) -> ResponseReturnValue:
    """Archive one thread (read-only from then on), with a reason."""
    return _set_archived(thread_id, True)


@bp.post("/threads/<thread_id>/unarchive")
@role_required("moderator")
def thread_unarchive(thread_id: str) -> ResponseReturnValue:
    """Unarchive one thread, with a reason."""
    return _set_archived(thread_id, False)


def _moderate(message_id: str, hide: bool) -> ResponseReturnValue:
    reason = request.form.get("reason")
    verb = moderation.hide_message if hide else moderation.restore_message
    try:
        msg = verb(current_user, message_id, reason)
    except ValidationFailed as exc:
        page = threads_service.single_message(message_id)
        ctx = _message_context(page)
        ctx.update(m=page.messages[0], form_error=exc.message, form_reason=reason or "")
        if is_partial():
            return render_template("dashboard/_message.html", **ctx), 422
        thread_id = page.messages[0].thread_id
        flash(exc.message, "error")
        return redirect(
            url_for("dashboard.thread_detail", thread_id=thread_id, around=message_id), code=303
        )
    message = "Message hidden" if hide else "Message restored"
    if not is_partial():
        flash(message, "info")
        return redirect(
            url_for("dashboard.thread_detail", thread_id=msg.thread_id, around=msg.id), code=303
        )
    page = threads_service.single_message(message_id)
    ctx = _message_context(page)
    html = render_template("dashboard/_message.html", m=page.messages[0], **ctx)
    return with_toast(html, message)


@bp.post("/messages/<message_id>/hide")
@role_required("moderator")
def message_hide(message_id: str) -> ResponseReturnValue:
    """Hide a message from end users, with a reason."""
    return _moderate(message_id, True)


@bp.post("/messages/<message_id>/restore")
@role_required("moderator")
def message_restore(message_id: str) -> ResponseReturnValue:
    """Show a hidden message again, with a reason."""
    return _moderate(message_id, False)


@bp.post("/threads/<thread_id>/export")
@role_required("moderator")
def thread_export(thread_id: str) -> ResponseReturnValue:
    """Download the thread as JSON (the seed's shape) or CSV, streamed in batches."""
    result = export.start_export(current_user, thread_id, request.form.get("format", "json"))
    resp = Response(stream_with_context(result.chunks), content_type=result.mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{result.filename}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp
