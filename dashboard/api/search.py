"""GET /api/v1/search: SPEC §6 search over the caller's own threads."""

from __future__ import annotations

from flask import request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..serializers import message_payloads, snippet_html
from ..services import search as search_service
from ..services.errors import BadRequest, ValidationFailed
from .views import bp


@bp.get("/search")
@login_required
def search_messages() -> ResponseReturnValue:
    """Messages in the caller's threads matching `q`, newest first (or by relevance), with
    highlighted snippets."""
    q = request.args.get("q", "")
    raw_limit = request.args.get("limit", "20")
    try:
        limit = int(raw_limit)
    except ValueError:
        limit = -1
    if not 1 <= limit <= search_service.PAGE_MAX:
        raise ValidationFailed(
            f"limit must be a whole number from 1 to {search_service.PAGE_MAX}.",
            {"fields": {"limit": "out of range"}},
        )
    order = request.args.get("order") or "newest"
    if order not in ("newest", "relevance"):
        raise ValidationFailed(
            "order must be newest or relevance.", {"fields": {"order": "unknown"}}
        )
    try:
        result = search_service.search(
            current_user._get_current_object(),
            q,
            cursor=request.args.get("cursor") or None,
            limit=limit,
            order=order,
            all_threads=False,
            with_relations=True,
        )
    except search_service.BadCursor as exc:
        raise BadRequest(str(exc), {"fields": {"cursor": "invalid"}}) from None
    # The same Message JSON as everywhere else (status from the watermarks), plus the snippet:
    # escaped text with <mark> tags around the highlights (the Search page's HTML).
    items = message_payloads([hit.message for hit in result.items])
    for item, hit in zip(items, result.items, strict=True):
        item["snippet"] = str(snippet_html(hit.snippet))
    body: dict = {"items": items, "nextCursor": result.next_cursor}
    if result.searched:
        body["total"] = result.total
        body["totalIsLowerBound"] = result.total_capped
        body["order"] = result.order
        if result.order == "relevance":
            # null: every match was ranked; a number: only that many of the newest were.
            body["rankedWindow"] = result.ranked_window
    if result.warnings:
        body["warnings"] = result.warnings
    return body
