"""The socket half of the authorization matrix (see matrix.py): /chat and /live events x callers.

A caller whose connection must be refused is checked by connecting; every other cell emits the
event with an ack. A client-sent lifecycle or unknown event must change nothing: the socket
stays connected and working, and the server can still drop it (deactivation reaches it).
"""

from __future__ import annotations

import contextlib
import itertools
from typing import Any

import pytest
from flask import Flask

from dashboard.extensions import socketio
from dashboard.realtime import broadcast
from dashboard.services import presence
from tests.api.tokens import token_for

from .matrix import FORBIDDEN, IGNORED, LIFECYCLE, NOT_FOUND, OK, REFUSED, ROLES, SOCKETS
from .test_matrix import Caller, make_caller

_ids = itertools.count(1)


class SocketCells:
    """Thread T (creator `owner`, with `participant`) and the payload of each /chat event."""

    def __init__(self, app: Flask, factory: Any, caller: Caller):
        self.app, self.factory, self.caller = app, factory, caller
        self.owner = factory.user()
        self.participant = caller.user if caller.role == "participant" else factory.user()
        self.thread = factory.thread(self.owner, [self.participant])
        self.by_owner = factory.message(self.thread, self.owner, "the owner's message")
        self.by_participant = factory.message(self.thread, self.participant, "mine")

    def payload(self, event: str) -> dict[str, Any]:
        t = self.thread.id
        match event:
            case "message:send":
                cid = f"matrix-{next(_ids)}"
                return {
                    "threadId": t,
                    "clientId": cid,
                    "content": "hi",
                    "parentId": self.by_owner.id,
                }
            case "message:edit":
                return {"messageId": self.by_participant.id, "content": "edited"}
            case "message:delete":
                msg = self.factory.message(self.thread, self.participant, "to delete")
                return {"messageId": msg.id}
            case "messages:delivered" | "messages:read":
                return {"threadId": t, "messageId": self.by_owner.id}
            case "typing:start" | "typing:stop":
                return {"threadId": t}
            case "sync":
                return {"since": "2000-01-01T00:00:00Z"}
            case "presence:query":
                return {"userIds": [self.owner.id]}
            case _:
                return {}


def connect(app: Flask, caller: Caller, namespace: str) -> Any:
    auth = {"token": caller.token} if caller.token else None
    return socketio.test_client(app, namespace=namespace, auth=auth)


def ack_outcome(ack: Any) -> str:
    if not isinstance(ack, dict) or "ok" not in ack:
        return f"no ack ({ack!r})"
    if ack["ok"] is True:
        return OK
    code = ack["error"]["code"]
    return {"not_found": NOT_FOUND, "forbidden": FORBIDDEN}.get(code, code)


def check_ignored(app: Flask, caller: Caller, ns: str, event: str, cells: SocketCells) -> str:
    """Emit a lifecycle or unknown event on a fresh socket; IGNORED if it changed nothing."""
    client = connect(app, caller, ns)
    try:
        if not client.is_connected(ns):
            return "connection refused"
        try:
            ack = client.emit(event, cells.payload(event), namespace=ns, callback=True)
        except Exception as exc:  # the handler raised instead of answering
            return f"raised {exc!r}"
        if isinstance(ack, dict) and (
            ack.get("ok") or ack.get("error", {}).get("code") == "internal_error"
        ):
            return f"ack {ack!r}"
        if not client.is_connected(ns):
            return "the socket was disconnected"
        if ns == "/chat":
            synced = client.emit("sync", cells.payload("sync"), namespace=ns, callback=True)
            if ack_outcome(synced) != OK:
                return f"the socket stopped working (sync answered {synced!r})"
            with app.app_context():
                if not presence.is_online(caller.user.id):
                    return "the user no longer counts as online"
        with app.app_context():
            broadcast.end_user_sessions(caller.user.id)  # what deactivation does
        if client.is_connected(ns):
            return "the server can no longer drop the socket"
        return IGNORED
    finally:
        with contextlib.suppress(Exception):
            client.disconnect(namespace=ns)


def check_sockets(app: Flask, factory: Any, role: str, lifecycle: bool) -> None:
    """Walk the socket cells of one caller: the lifecycle names, or every other event."""
    caller = make_caller(app, factory, role)
    cells = SocketCells(app, factory, caller)
    checked = 0
    for ns, events in SOCKETS.items():
        shared = connect(app, caller, ns)
        try:
            for event, row in events.items():
                if (event in LIFECYCLE) != lifecycle:
                    continue
                expected = row[role]
                checked += 1
                if expected == REFUSED:
                    got = REFUSED if not shared.is_connected(ns) else "connected"
                elif not shared.is_connected(ns):
                    got = "connection refused"
                elif expected == IGNORED:
                    got = check_ignored(app, caller, ns, event, cells)
                    # Dropping the user's sockets dropped the shared one too: open it again.
                    with contextlib.suppress(Exception):
                        shared.disconnect(namespace=ns)
                    shared = connect(app, caller, ns)
                else:
                    ack = shared.emit(event, cells.payload(event), namespace=ns, callback=True)
                    got = ack_outcome(ack)
                if got != expected:
                    caller.failures.append(f"{role} {ns} {event}: expected {expected}, got {got}")
        finally:
            with contextlib.suppress(Exception):
                shared.disconnect(namespace=ns)
    assert checked == sum(
        1 for events in SOCKETS.values() for e in events if (e in LIFECYCLE) == lifecycle
    )
    if caller.failures:
        pytest.fail("\n".join(caller.failures), pytrace=False)


@pytest.mark.parametrize("role", ROLES)
def test_matrix_sockets(app, factory, role):
    check_sockets(app, factory, role, lifecycle=False)


# Finding 1 of the hardening issue: client-sent `connect` / `disconnect` never reach the
# namespace's lifecycle handlers (realtime/base.py), so these cells hold for every caller.
@pytest.mark.parametrize("role", ROLES)
def test_matrix_socket_lifecycle_names(app, factory, role):
    check_sockets(app, factory, role, lifecycle=True)


def test_a_token_for_another_namespace_role_is_refused_on_live(app, factory):
    """End users' valid tokens open /chat but never /live."""
    user = factory.user()
    chat = socketio.test_client(app, namespace="/chat", auth={"token": token_for(user)})
    live = socketio.test_client(app, namespace="/live", auth={"token": token_for(user)})
    assert chat.is_connected("/chat") and not live.is_connected("/live")
    chat.disconnect(namespace="/chat")
