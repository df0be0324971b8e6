"""Overview page."""

from flask import render_template
from flask.typing import ResponseReturnValue

from ...auth import staff_required
from ...services import stats
from .blueprint import bp


@bp.get("/")
@staff_required
def overview() -> ResponseReturnValue:
    """Counts of threads, messages, reports and users."""
    return render_template("dashboard/overview.html", counts=stats.overview_counts())
