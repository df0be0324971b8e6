"""Strict JSON: the only JSON that Chatdesk reads from a client, over HTTP or Socket.IO.

RFC 8259 JSON with no `NaN`, `Infinity` or `-Infinity` (nor numbers that overflow to them,
such as `1e999`), nesting bounded before the parser runs (so a 100,000-level body is refused
in linear time instead of raising RecursionError inside the decoder), and every string, key
or value, valid Unicode without lone surrogates or NUL (PostgreSQL cannot store NUL, and
neither database can store a lone surrogate as UTF-8).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

# The deepest nesting of a whole request body or socket payload; metadata has its own,
# smaller bound in the request models.
MAX_DEPTH = 32
_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")
# A string (the unrolled-loop form: linear, no backtracking) or one bracket.
_STRUCTURE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


class StrictJSONError(ValueError):
    """The text is not strict JSON; `reason` names the rule it broke (for error details)."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


def _refuse_constant(name: str) -> Any:
    raise StrictJSONError(f"{name} is not a JSON number.", "non_finite_number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise StrictJSONError(f"{text} is out of range for a JSON number.", "non_finite_number")
    return value


def nesting_depth(text: str) -> int:
    """The deepest bracket nesting of a JSON text, ignoring brackets inside strings."""
    depth = deepest = 0
    for match in _STRUCTURE.finditer(text):
        first = match.group()[0]
        if first in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif first in "]}":
            depth -= 1
    return deepest


def bad_string(value: Any) -> str | None:
    """The first string (key or value) inside `value` with NUL or a lone surrogate, else None.

    Walks with an explicit stack, so no nesting depth can exhaust Python's recursion limit.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _BAD_CHAR.search(item):
                return item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def check_text(value: str) -> str:
    """`value` unchanged, or StrictJSONError when it holds NUL or a lone surrogate."""
    match = _BAD_CHAR.search(value)
    if match is None:
        return value
    if match.group() == "\x00":
        raise StrictJSONError("NUL characters are not allowed.", "nul_character")
    raise StrictJSONError("Text must be valid Unicode (a lone surrogate was sent).", "surrogate")


def loads(data: str | bytes | bytearray, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse strict JSON, or raise StrictJSONError saying why not."""
    if isinstance(data, bytes | bytearray):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise StrictJSONError("The body is not valid UTF-8.", "invalid_utf8") from None
    else:
        text = data
    if nesting_depth(text) > max_depth:
        raise StrictJSONError(f"JSON is nested more than {max_depth} levels.", "too_deep")
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except StrictJSONError:
        raise
    except (ValueError, RecursionError) as exc:
        raise StrictJSONError(f"The body is not valid JSON: {exc}", "malformed") from None
    bad = bad_string(value)
    if bad is not None:
        check_text(bad)
    return value


def dumps(value: Any, **kwargs: Any) -> str:
    """Standard JSON out (the half of a `json` module that Socket.IO needs besides loads)."""
    return json.dumps(value, **kwargs)
