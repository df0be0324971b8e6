"""The Socket.IO packet that reads strict JSON, and answers a refused payload, never drops it.

python-socketio parses each packet's JSON before any handler runs. Raising there would lose
the event (its ack never answered, the client left waiting), so a packet whose payload is
not strict JSON is decoded with a `Rejected` in place of the payload: the event's handler
acks `validation_failed`, and a connect with such auth is refused like one without auth.
Given to the server as its `serializer`; Engine.IO keeps the standard json module.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from socketio import packet

from . import strict_json

_EVENT_NAME = re.compile(r'\s*\[\s*("[^"\\]*(?:\\.[^"\\]*)*")\s*[,\]]')
_EVENTS = (packet.EVENT, packet.BINARY_EVENT)


@dataclass(frozen=True)
class Rejected:
    """Stands for a payload that was not strict JSON: why, for the ack."""

    message: str
    reason: str


class _StrictJSON:
    """The `json` module of StrictPacket: strict loads, standard dumps."""

    @staticmethod
    def loads(s: str | bytes, **kwargs: Any) -> Any:
        return strict_json.loads(s)

    @staticmethod
    def dumps(obj: Any, **kwargs: Any) -> str:
        return json.dumps(obj, **kwargs)


def _event_name(text: str) -> str:
    match = _EVENT_NAME.match(text)
    if match is None:
        return ""
    try:
        name = strict_json.loads(match.group(1))
    except strict_json.StrictJSONError:
        return ""
    return name if isinstance(name, str) else ""


class StrictPacket(packet.Packet):
    """A Socket.IO packet decoded with strict JSON; refused payloads become `Rejected`."""

    json = _StrictJSON

    def decode(self, encoded_packet: Any) -> int:
        try:
            return int(super().decode(encoded_packet) or 0)
        except strict_json.StrictJSONError as exc:
            # The base decoder set the type, namespace and id before it parsed the JSON.
            rejected: Any = Rejected(str(exc), exc.reason)
            if self.packet_type in _EVENTS:
                text = encoded_packet if isinstance(encoded_packet, str) else ""
                self.data = [_event_name(text[text.find("[") :] if "[" in text else ""), rejected]
            elif self.packet_type == packet.CONNECT:
                self.data = rejected
            else:
                raise
            return 0
