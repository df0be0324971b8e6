"""Reading a request's JSON body strictly (for the API views and Flask's own get_json)."""

from __future__ import annotations

from typing import Any

from flask import Request
from flask.json.provider import DefaultJSONProvider

from ..services.errors import BadRequest, PayloadTooLarge
from . import strict_json


def json_body(request: Request, max_bytes: int) -> Any:
    """The request's strict-JSON body, or 400 (not JSON, or not strict JSON) / 413."""
    if not request.is_json:
        raise BadRequest("Send a JSON object (Content-Type: application/json).")
    if (request.content_length or 0) > max_bytes:
        raise PayloadTooLarge(f"A JSON body is at most {max_bytes} bytes.", {"limit": max_bytes})
    raw = request.get_data(cache=True)
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"A JSON body is at most {max_bytes} bytes.", {"limit": max_bytes})
    try:
        return strict_json.loads(raw)
    except strict_json.StrictJSONError as exc:
        raise BadRequest(str(exc), {"reason": exc.reason}) from None


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON with strict reading, so `request.get_json()` anywhere obeys the same rules.

    A refusal is a ValueError, which Flask answers as 400 (or None with `silent=True`).
    """

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return strict_json.loads(s)
