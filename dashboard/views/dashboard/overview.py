"""Overview page: live counts and the 30-day messages-per-day chart."""

from __future__ import annotations

import json
from datetime import datetime

from flask import Response, make_response, render_template, request
from flask.typing import ResponseReturnValue

from ...auth import staff_required
from ...models import utcnow
from ...services import presence, stats
from .blueprint import bp


def is_htmx() -> bool:
    """True for a request htmx made to swap a partial (a history restore wants the whole page)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def with_toast(body: str | Response, message: str, status: int = 200) -> Response:
    """A response whose HX-Trigger header makes app.js show `message` as a toast."""
    resp = make_response(body, status)
    resp.headers["HX-Trigger"] = json.dumps({"toast": message})
    return resp


@bp.get("/")
@staff_required
def overview() -> ResponseReturnValue:
    """Counts of threads, messages, reports and people online, and the messages chart."""
    counts = stats.overview_counts()
    chart = stats.chart(stats.messages_per_day(today_count=counts["messages_today"]))
    return render_template("dashboard/overview.html", counts=counts, chart=chart)


@bp.get("/counts")
@staff_required
def overview_counts() -> ResponseReturnValue:
    """The overview's counts alone (htmx refreshes them on live events)."""
    return render_template("dashboard/_overview_counts.html", counts=stats.overview_counts())


@bp.app_template_filter("ago")
def ago(when: datetime | None) -> str:
    """'3 min ago'-style age of a naive-UTC time, for tables (the exact time is in a title)."""
    if when is None:
        return "never"
    seconds = int((utcnow() - when).total_seconds())
    if seconds < 60:
        return "just now"
    for size, unit in ((86400 * 365, "y"), (86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return "just now"  # pragma: no cover - unreachable


@bp.app_template_filter("isoz")
def isoz(when: datetime | None) -> str:
    """ISO 8601 UTC with a Z, for <time datetime=…>."""
    return when.isoformat(timespec="seconds") + "Z" if when else ""


@bp.app_template_filter("excerpt")
def excerpt(text: str | None, length: int = 160) -> str:
    """The first `length` characters of `text` on one line (escaped later by autoescape)."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= length else flat[: length - 1] + "…"


@bp.app_context_processor
def presence_helpers() -> dict[str, object]:
    """`is_online(user_id)` for the templates (the presence service's current state)."""
    return {"is_online": presence.is_online}
