"""The home page: where to go next."""

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

bp = Blueprint("main", __name__)


@bp.get("/")
def index() -> ResponseReturnValue:
    """Links to the operator dashboard and the chat."""
    return render_template("main/index.html")
