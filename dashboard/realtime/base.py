"""What both namespaces share: event routing, and lifecycle handlers clients cannot reach.

python-socketio routes the server's own connect and disconnect and every event a client
sends through the same `trigger_event`, so a client could emit an event named `disconnect`
and run the disconnect handler while its socket stays connected (and in its rooms). The
server runs its lifecycle handlers only while the socket is connecting or disconnecting;
a client's event arrives while it is connected. `ServerNamespace` refuses a lifecycle name
arriving then, with an `{ok: false}` ack and one log line (no traceback).
"""

from __future__ import annotations

import logging
from typing import Any

from flask_socketio import Namespace

from .. import faults

LIFECYCLE = frozenset({"connect", "disconnect", "connect_error"})
# The sockets log (not the app's): trigger_event runs before any app context.
log = logging.getLogger("chatdesk.sockets")


def refused(code: str, message: str) -> dict[str, Any]:
    """The ack of an event that was refused before any handler ran."""
    return {"ok": False, "error": {"code": code, "message": message, "details": {}}}


class ServerNamespace(Namespace):
    """A namespace whose `on_connect` / `on_disconnect` only the server itself can run."""

    def trigger_event(self, event: str, *args: Any) -> Any:
        """Route `message:send` to `on_message_send`; refuse client-sent lifecycle names."""
        if event in LIFECYCLE and args and self._connected(args[0]):
            log.warning("refused a client-sent %r event on %s", event, self.namespace)
            return refused("bad_request", f"'{event}' is not an event clients may send.")
        name = event.replace(":", "_")
        # An outage refuses a connect (503) and is absorbed by a disconnect (faults.py).
        return faults.guard_socket(
            event, lambda: super(ServerNamespace, self).trigger_event(name, *args)
        )

    def _connected(self, sid: Any) -> bool:
        """True once the server finished connecting `sid` and has not begun to disconnect it.

        The server's own connect runs while the sid is pending, and its disconnect after
        the sid was marked as leaving; either way the manager does not count it connected.
        """
        server = self.socketio.server if self.socketio else None
        return bool(
            server and isinstance(sid, str) and server.manager.is_connected(sid, self.namespace)
        )
