"""A real python-socketio client on /chat (or /live) that records what it receives."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import socketio

from tests.api.tokens import token_for

EVENTS = (
    "message:new",
    "message:updated",
    "message:status",
    "typing",
    "presence",
    "thread:new",
    "thread:updated",
    "thread:removed",
    "session:ended",
    "report:new",
    "presence:snapshot",
)


class ChatClient:
    """Connects over WebSocket with a Clerk token; `got[event]` lists the payloads received."""

    def __init__(self, url: str, user: Any, namespace: str = "/chat"):
        self.url, self.user, self.ns = url, user, namespace
        self.sio = socketio.Client(reconnection=False)
        self.got: dict[str, list[Any]] = defaultdict(list)
        self.lock = threading.Lock()
        for name in EVENTS:
            self.sio.on(name, self._recorder(name), namespace=namespace)

    def _recorder(self, name: str) -> Callable[[Any], None]:
        def record(data: Any = None) -> None:
            with self.lock:
                self.got[name].append(data)

        return record

    def connect(self) -> ChatClient:
        self.sio.connect(
            self.url,
            namespaces=[self.ns],
            transports=["websocket"],
            auth={"token": token_for(self.user)},
            wait_timeout=10,
        )
        return self

    def call(self, event: str, data: Any) -> Any:
        return self.sio.call(event, data, namespace=self.ns, timeout=10)

    def disconnect(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()

    def received(self, name: str) -> list[Any]:
        with self.lock:
            return list(self.got[name])


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll until `predicate()` is truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out waiting for a socket event")
