"""How a view tells an htmx request from a page load, and how it answers one with a toast.

Views import this; it imports only Flask. Every page view asks `is_partial()` (never the raw
`HX-Request` header), so a history restore always gets the whole page.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, make_response, request
from flask.typing import ResponseReturnValue


def is_partial() -> bool:
    """True for a request htmx made to swap a partial (a history restore wants the whole page)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def target() -> str | None:
    """The id of the element htmx will swap (`HX-Target`), for views with several partials."""
    return request.headers.get("HX-Target") if is_partial() else None


def with_toast(
    body: ResponseReturnValue, message: str, status: int | None = None, **events: Any
) -> Response:
    """A response whose HX-Trigger header makes app.js show `message` as a toast.

    Extra keyword arguments become further HX-Trigger events (`threads:bulk-done=3`).
    """
    resp = make_response(body)
    # HX-* headers are set by hand: htmx-flask's make_response refuses some values.
    resp.headers["HX-Trigger"] = json.dumps({"toast": message, **events})
    if status is not None:
        resp.status_code = status
    return resp
