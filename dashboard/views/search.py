"""The dashboard's Search page: one box with the SPEC §6 operators, results as you type."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..auth import staff_required
from ..services import search as search_service
from .htmx import is_partial

bp = Blueprint("search", __name__)

PAGE_SIZE = 20


@bp.get("")
@staff_required
def search() -> ResponseReturnValue:
    """Search every thread's messages; htmx gets the results partial (or the next page)."""
    q = request.args.get("q", "")[:1000]
    order = "relevance" if request.args.get("order") == "relevance" else "newest"
    cursor = request.args.get("cursor") or None
    viewer = current_user._get_current_object()
    if not q.strip():
        result = search_service.SearchResult(query="", order=order)
        return _render(q, order, result, cursor=None)
    try:
        result = search_service.search(
            viewer, q, cursor=cursor, order=order, limit=PAGE_SIZE, all_threads=True
        )
    except search_service.BadCursor as exc:
        cursor = None
        result = search_service.search(viewer, q, order=order, limit=PAGE_SIZE, all_threads=True)
        result.warnings.insert(0, str(exc))
    return _render(q, order, result, cursor)


def _render(
    q: str, order: str, result: search_service.SearchResult, cursor: str | None
) -> ResponseReturnValue:
    context = {"q": q, "order": order, "result": result}
    if is_partial():
        template = "dashboard/_search_hits.html" if cursor else "dashboard/_search_results.html"
        return render_template(template, **context)
    return render_template("dashboard/search.html", **context)
