"""The end users' chat page."""

from flask import Blueprint, current_app, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

bp = Blueprint("chat", __name__)


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    """The chat application (its script talks to /api/v1 and the /chat namespace)."""
    cfg = current_app.config
    return render_template(
        "chat/index.html",
        api_root=url_for("api.me").rsplit("/", 1)[0],
        limits={
            "content": cfg["MAX_MESSAGE_CHARS"],
            "attachments": cfg["MAX_ATTACHMENTS"],
            "title": cfg["MAX_TITLE_CHARS"],
            "upload": cfg["MAX_UPLOAD_BYTES"],
        },
    )
