"""Overview page: live counts and the 30-day messages-per-day chart."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from ...auth import staff_required
from ...services import presence, stats
from .blueprint import bp


@bp.get("/")
@staff_required
def overview() -> ResponseReturnValue:
    """Counts of threads, messages, reports and people online, and the messages chart."""
    counts = stats.overview_counts()
    chart = stats.chart_data(stats.messages_per_day(today_count=counts["messages_today"]))
    return render_template("dashboard/overview.html", counts=counts, chart=chart)


@bp.get("/counts")
@staff_required
def overview_counts() -> ResponseReturnValue:
    """The overview's counts alone (htmx refreshes them on live events)."""
    return render_template("dashboard/_overview_counts.html", counts=stats.overview_counts())


@bp.app_context_processor
def presence_helpers() -> dict[str, object]:
    """`is_online(user_id)` for the templates (the presence service's current state)."""
    return {"is_online": presence.is_online}
