"""The operator dashboard (staff only)."""

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from ..auth import staff_required
from ..services import stats

bp = Blueprint("dashboard", __name__)


@bp.get("/")
@staff_required
def overview() -> ResponseReturnValue:
    """Counts of threads, messages, reports and users."""
    return render_template("dashboard/overview.html", counts=stats.overview_counts())
