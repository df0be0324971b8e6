"""The reason a staff action asks for: trimmed, required, bounded. One rule for every action.

Services import this; it imports only the service errors. A refusal is a ValidationFailed
whose details name the form field (`{"fields": {"reason": "required"}}`), the shape the API
uses for every field error, so a view shows it beside the field it belongs to.
"""

from __future__ import annotations

from .errors import ValidationFailed

REASON_MAX = 1000


def clean_reason(
    reason: str | None, *, max_length: int = REASON_MAX, field_name: str = "reason"
) -> str:
    """The reason without surrounding space; a ValidationFailed when empty or too long."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Give a reason.", {"fields": {field_name: "required"}})
    if len(reason) > max_length:
        raise ValidationFailed(
            f"The reason is too long (at most {max_length} characters).",
            {"fields": {field_name: f"at most {max_length} characters"}},
        )
    return reason
