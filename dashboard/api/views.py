"""JSON API endpoints. Authentication: the session cookie or a Clerk bearer token."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..serializers import user_json

bp = Blueprint("api", __name__)


@bp.get("/me")
@login_required
def me() -> ResponseReturnValue:
    """The caller."""
    return user_json(current_user)
