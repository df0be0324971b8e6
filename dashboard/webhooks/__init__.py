"""Inbound webhooks (`/webhooks`): Clerk's Svix-signed user and session events.

The one route here that is exempt from CSRF (the sender is a server with a signature, not a
browser with a cookie); everything else about the request is checked as usual.

Imports the lifecycle services (`clerk_sync`), the error pages, the extensions and the events
port (to drop the sockets of a user Clerk deleted); only the app factory imports it.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from svix.webhooks import Webhook, WebhookVerificationError

from .. import events
from ..errors import error_response
from ..extensions import db
from ..payloads import strict_json
from ..services.lifecycle import clerk_sync

bp = Blueprint("webhooks", __name__)

SVIX_HEADERS = ("svix-id", "svix-timestamp", "svix-signature")
CSRF_EXEMPT = frozenset({"webhooks.clerk"})


@bp.post("/clerk")
def clerk() -> ResponseReturnValue:
    """Apply one Clerk event: 400 unless the Svix signature and timestamp verify."""
    secret = current_app.config["CLERK_WEBHOOK_SECRET"]
    if not secret:
        return error_response(404, "Clerk webhooks are not configured.")
    body = request.get_data(cache=False)
    headers = {name: request.headers.get(name, "") for name in SVIX_HEADERS}
    try:
        # Checks the HMAC over id, timestamp and body, and the timestamp's tolerance window.
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError as exc:
        current_app.logger.info("refused a Clerk webhook: %s", exc)
        return error_response(
            400, "The webhook signature did not verify.", details={"reason": "signature"}
        )
    try:
        event = strict_json.loads(body)
        handled = clerk_sync.handle_event(headers["svix-id"], event)
    except (ValueError, clerk_sync.BadEvent) as exc:
        db.session.rollback()
        return error_response(400, f"Not a Clerk event: {exc}", details={"reason": "payload"})
    if handled.end_sessions_of:
        events.sessions_ended(handled.end_sessions_of)
    return jsonify({"ok": True, "outcome": handled.outcome})
