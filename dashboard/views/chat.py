"""The end users' chat page."""

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_login import login_required

bp = Blueprint("chat", __name__)


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    """The chat application (its script talks to /api/v1 and the /chat namespace)."""
    return render_template("chat/index.html")
