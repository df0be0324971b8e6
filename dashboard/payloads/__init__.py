"""The payload boundary: strict JSON and typed request models, for the API and the sockets.

`strict_json` reads client JSON (no NaN/Infinity, bounded depth, clean Unicode); `requests`
holds a model per API body and socket event; `responses` describes the serializers' shapes;
`schema` turns both into OpenAPI components. `parse` is the one call views and socket
handlers make before a service runs.

May import: models (for column lengths), services.errors and services' limit constants.
Imported by: api, realtime, auth (token claims). Never by services or models.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import ValidationError

from ..services.errors import ValidationFailed
from .limits import Limits
from .requests import Payload

P = TypeVar("P", bound=Payload)

__all__ = ["Limits", "Payload", "field_errors", "parse"]


def field_errors(exc: ValidationError) -> dict[str, str]:
    """`{field: problem}` from a pydantic error, keyed by the client's (camelCase) names."""
    fields: dict[str, str] = {}
    for err in exc.errors(include_url=False, include_input=False):
        loc = [str(p) for p in err["loc"] if not isinstance(p, int)]
        key = loc[0] if loc else "payload"
        message = "required" if err["type"] == "missing" else err["msg"]
        fields.setdefault(key, message)
    return fields


def parse(model: type[P], data: Any, limits: Limits | None = None) -> P:
    """`data` as a `model`, or ValidationFailed (422) naming each bad field. Writes nothing."""
    if not isinstance(data, dict):
        raise ValidationFailed("The payload must be a JSON object.", {"fields": {}})
    try:
        return model.model_validate(data, context={"limits": limits})
    except ValidationError as exc:
        fields = field_errors(exc)
        first = next(iter(fields.items()))
        raise ValidationFailed(f"{first[0]}: {first[1]}.", {"fields": fields}) from None
