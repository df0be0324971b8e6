"""The `json` module Socket.IO decodes packets with: strict JSON, answered, never dropped.

python-socketio parses each packet with `json.loads` before any handler runs. A packet that
is not strict JSON still names its event, so instead of raising (the event would be lost
and the client's ack never answered) `loads` hands the handler a `Rejected` in place of the
payload, and the handler acks `validation_failed`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from . import strict_json

_EVENT_NAME = re.compile(r'\s*\[\s*("[^"\\]*(?:\\.[^"\\]*)*")\s*[,\]]')


@dataclass(frozen=True)
class Rejected:
    """Stands for a payload that was not strict JSON: why, for the ack."""

    message: str
    reason: str


def _event_name(text: str) -> str | None:
    match = _EVENT_NAME.match(text)
    if match is None:
        return None
    try:
        name = strict_json.loads(match.group(1))
    except strict_json.StrictJSONError:
        return None
    return name if isinstance(name, str) else None


def loads(s: str | bytes, **kwargs: Any) -> Any:
    """Strict JSON; a refused event packet (a list) gives `[name, Rejected]`, an object a
    bare `Rejected` (a connect's auth), and anything else the ValueError (Engine.IO tries
    plain text messages as JSON and expects that)."""
    try:
        return strict_json.loads(s)
    except strict_json.StrictJSONError as exc:
        text = s.decode("utf-8", "replace") if isinstance(s, bytes | bytearray) else s
        head = text.lstrip()[:1]
        rejected = Rejected(str(exc), exc.reason)
        if head == "[":
            return [_event_name(text) or "", rejected]
        if head == "{":
            return rejected
        raise


def dumps(obj: Any, **kwargs: Any) -> str:
    """Standard JSON out."""
    return json.dumps(obj, **kwargs)
