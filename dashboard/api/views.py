"""JSON API endpoints. Authentication: the session cookie or a Clerk bearer token.

Each view parses its input, calls one service and returns JSON; errors are raised as service
errors and answered as SPEC §5 JSON by dashboard/errors.py.
"""

from __future__ import annotations

from flask import Blueprint, current_app, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from .. import payloads
from ..models import User
from ..payloads import requests as bodies
from ..payloads.http import json_body
from ..serializers import user_json, user_summary
from ..services import messages, presence, rate_limits, receipts, reports, threads, uploads, users
from ..services.errors import BadRequest, ValidationFailed

bp = Blueprint("api", __name__)


@bp.before_request
def refuse_nul_characters() -> None:
    """NUL characters cannot be stored (PostgreSQL refuses them): a clear 400, never a 500."""
    if "\x00" in request.path or any("\x00" in k + v for k, v in request.args.items(multi=True)):
        raise BadRequest("NUL characters are not allowed.")


def _me() -> User:
    return current_user._get_current_object()


def _body(model: type[payloads.P]) -> payloads.P:
    """The request's body as `model`: 400 unless strict JSON, 413 too big, 422 invalid."""
    data = json_body(request, current_app.config["MAX_JSON_BYTES"])
    if not isinstance(data, dict):
        raise BadRequest("Send a JSON object (Content-Type: application/json).")
    return payloads.parse(model, data, payloads.Limits.from_config(current_app.config))


def _limit(default: int = 50) -> int:
    raw = request.args.get("limit")
    cap = current_app.config["MAX_PAGE_SIZE"]
    if raw is None or raw == "":
        return min(default, cap)
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if not 1 <= n <= cap:
        raise ValidationFailed(
            f"limit must be between 1 and {cap}.", {"fields": {"limit": f"1 to {cap}"}}
        )
    return n


@bp.get("/me")
@login_required
def me() -> ResponseReturnValue:
    """The caller."""
    return user_json(current_user)


@bp.get("/users")
@login_required
def find_users() -> ResponseReturnValue:
    """Active users whose username or name starts with `q` (to start a thread or mention)."""
    rows = users.find_users(request.args.get("q") or "", limit=_limit(20))
    return {"items": [user_summary(u) for u in rows], "nextCursor": None}


@bp.get("/threads")
@login_required
def list_threads() -> ResponseReturnValue:
    """The caller's threads, newest activity first, with unreadCount and lastMessage."""
    raw = (request.args.get("archived") or "false").lower()
    archived: bool | None
    if raw in ("true", "1"):
        archived = True
    elif raw in ("false", "0", ""):
        archived = False
    elif raw == "all":
        archived = None
    else:
        raise ValidationFailed(
            "archived is true, false or all.", {"fields": {"archived": "true/false/all"}}
        )
    return threads.list_threads(
        current_user.id, archived=archived, cursor=request.args.get("cursor"), limit=_limit()
    )


@bp.post("/threads")
@login_required
def create_thread() -> ResponseReturnValue:
    """Start a thread: {title, name?, participantIds, metadata?} → 201 Thread."""
    body = _body(bodies.CreateThread)
    payload = threads.create_thread(
        _me(),
        title=body.title,
        participant_ids=body.participant_ids,
        name=body.name,
        metadata=body.metadata,
    )
    return payload, 201


@bp.get("/threads/<thread_id>")
@login_required
def get_thread(thread_id: str) -> ResponseReturnValue:
    """One thread of the caller's."""
    return threads.thread_payload(threads.get_thread(current_user.id, thread_id))


@bp.patch("/threads/<thread_id>")
@login_required
def update_thread(thread_id: str) -> ResponseReturnValue:
    """Change a thread's title, name or metadata (its creator only)."""
    body = _body(bodies.UpdateThread)
    return threads.update_thread(
        _me(), thread_id, title=body.title, name=body.name, metadata=body.metadata
    )


@bp.post("/threads/<thread_id>/participants")
@login_required
def add_participants(thread_id: str) -> ResponseReturnValue:
    """Add participants: {userIds} (the creator only) → the Thread."""
    body = _body(bodies.AddParticipants)
    return threads.add_participants(_me(), thread_id, body.user_ids)


@bp.delete("/threads/<thread_id>/participants/<user_id>")
@login_required
def remove_participant(thread_id: str, user_id: str) -> ResponseReturnValue:
    """Remove a participant (the creator), or leave (yourself) → the Thread."""
    return threads.remove_participant(_me(), thread_id, user_id)


@bp.get("/threads/<thread_id>/messages")
@login_required
def list_messages(thread_id: str) -> ResponseReturnValue:
    """A page of messages, oldest first: the newest, or before/after a message id."""
    return messages.list_messages(
        current_user.id,
        thread_id,
        before=request.args.get("before") or None,
        after=request.args.get("after") or None,
        limit=_limit(),
    )


@bp.post("/threads/<thread_id>/messages")
@login_required
def send_message(thread_id: str) -> ResponseReturnValue:
    """Send a message → 201, or 200 with the stored one when the clientId was seen before."""
    rate_limits.hit("send", current_user.id)  # the same bucket as the socket's sends
    body = _body(bodies.SendMessage)
    payload, created = messages.send_message(
        _me(),
        thread_id,
        client_id=body.client_id,
        content=body.content or "",
        parent_id=body.parent_id,
        attachments=body.attachment_dicts(),
        metadata=body.metadata,
    )
    return payload, 201 if created else 200


@bp.patch("/messages/<message_id>")
@login_required
def edit_message(message_id: str) -> ResponseReturnValue:
    """Edit your own message: {content}."""
    body = _body(bodies.EditMessage)
    return messages.edit_message(_me(), message_id, body.content)


@bp.delete("/messages/<message_id>")
@login_required
def delete_message(message_id: str) -> ResponseReturnValue:
    """Delete your own message (it stays as an empty, removed row)."""
    return messages.delete_message(_me(), message_id)


@bp.post("/threads/<thread_id>/read")
@login_required
def mark_read(thread_id: str) -> ResponseReturnValue:
    """Move the caller's read watermark: {messageId}."""
    body = _body(bodies.MarkRead)
    return receipts.mark_read(current_user.id, thread_id, body.message_id)


@bp.post("/messages/<message_id>/reports")
@login_required
def report_message(message_id: str) -> ResponseReturnValue:
    """Report a message to the moderators: {reason} → 201."""
    body = _body(bodies.ReportMessage)
    return reports.report_message(_me(), message_id, body.reason), 201


@bp.get("/presence")
@login_required
def get_presence() -> ResponseReturnValue:
    """PresenceInfo for each of `userIds` (comma-separated)."""
    ids = [u.strip() for u in (request.args.get("userIds") or "").split(",") if u.strip()]
    return {"items": presence.info(ids), "nextCursor": None}


@bp.post("/uploads")
@login_required
def upload() -> ResponseReturnValue:
    """Upload a file (multipart field `file`) → 201 Attachment, typed by its bytes."""
    file = request.files.get("file")
    if file is None:
        raise ValidationFailed(
            "Send the file as multipart/form-data field `file`.", {"fields": {"file": "required"}}
        )
    payload = uploads.save_upload(
        _me(),
        file.stream,
        file.filename,
        lambda att_id: url_for("api.get_upload", upload_id=att_id),
    )
    return payload, 201


@bp.get("/uploads/<upload_id>")
@login_required
def get_upload(upload_id: str) -> ResponseReturnValue:
    """An uploaded file: for its uploader, the participants of a thread holding it, and staff
    (a support agent's opening is audited)."""
    path, att = uploads.open_upload(_me(), upload_id)
    is_image = att.type == "image"
    resp = send_file(
        path,
        mimetype=att.mime_type or "application/octet-stream",
        as_attachment=not is_image,
        download_name=att.original_name or att.id,
        conditional=True,
        max_age=3600,
    )
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, max-age=3600"
    if is_image:
        resp.headers["Content-Disposition"] = "inline"
    return resp


@bp.get("/uploads/<upload_id>/thumbnail")
@login_required
def get_upload_thumbnail(upload_id: str) -> ResponseReturnValue:
    """An image's thumbnail (upright, no metadata), for whoever may see the image."""
    path, mime, _att = uploads.open_thumbnail(_me(), upload_id)
    resp = send_file(path, mimetype=mime, conditional=True, max_age=3600)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, max-age=3600"
    resp.headers["Content-Disposition"] = "inline"
    return resp
