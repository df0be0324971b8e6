"""Keyset pagination shared by every list: the `Page`, the one cursor codec, LIKE patterns.

Services import this; it imports only the service errors. A cursor is opaque to callers: the
sort key and id of the last row shown, base64url-encoded, so a deep page costs what the first
does (no OFFSET) and a tampered cursor is a clear 400, never a 500.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from .errors import BadRequest

T = TypeVar("T")

LIKE_ESCAPE = "\\"


@dataclass
class Page(Generic[T]):
    """One keyset page of rows, and the cursor of the next one (None at the end)."""

    items: list[T] = field(default_factory=list)
    next_cursor: str | None = None


class BadCursor(BadRequest):
    """A cursor this code did not make (tampered, truncated, or from another list)."""

    def __init__(self, field_name: str = "cursor"):
        super().__init__(
            "That page link is not valid any more.", {"fields": {field_name: "invalid"}}
        )


def _text(value: str | datetime) -> str:
    return value.isoformat(timespec="microseconds") if isinstance(value, datetime) else value


def encode_cursor(*values: str | datetime) -> str:
    """An opaque cursor holding `values` (a sort key, then the row's id)."""
    raw = "|".join(_text(v) for v in values).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(
    cursor: str, *types: type[str] | type[datetime], field_name: str = "cursor"
) -> tuple[Any, ...]:
    """The values of a cursor, each parsed by its type (`datetime` or `str`); else BadCursor.

    The last value (the id) may hold `|`, and may be empty (a sync position before any row).
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        parts = raw.split("|", len(types) - 1)
        if len(parts) != len(types):
            raise ValueError("wrong shape")
        return tuple(
            datetime.fromisoformat(p) if t is datetime else p
            for t, p in zip(types, parts, strict=True)
        )
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise BadCursor(field_name) from None


def like_pattern(text: str, *, prefix: bool = False) -> str:
    """A LIKE pattern matching `text` literally: anywhere, or at the start with `prefix`.

    Use it with `escape=LIKE_ESCAPE`; `%`, `_` and the escape itself in `text` match themselves.
    """
    escaped = (
        text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )
    return f"{escaped}%" if prefix else f"%{escaped}%"
