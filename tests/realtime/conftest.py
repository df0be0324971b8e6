"""Socket fixtures: Flask-SocketIO test clients and real python-socketio clients."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from dashboard.extensions import socketio
from dashboard.services import presence
from tests.api.tokens import CLERK_CONFIG, token_for


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """The test app verifies the test key's tokens."""
    app_config.update(CLERK_CONFIG)
    return app_config


@pytest.fixture(autouse=True)
def _fresh_presence() -> Iterator[None]:
    presence.reset()
    yield
    presence.reset()


@pytest.fixture
def socket_client(app) -> Iterator[Callable[..., Any]]:  # type: ignore[no-untyped-def]
    """Connect a Flask-SocketIO test client to /chat as `user` (by Clerk token)."""
    made: list[Any] = []

    def connect(user: Any, namespace: str = "/chat", **kw: Any) -> Any:
        kw.setdefault("auth", {"token": token_for(user)})
        c = socketio.test_client(app, namespace=namespace, **kw)
        made.append(c)
        return c

    yield connect
    for c in made:
        for ns in ("/chat", "/live"):
            if c.is_connected(ns):
                with contextlib.suppress(Exception):  # already gone
                    c.disconnect(namespace=ns)


def events(client: Any, name: str, namespace: str = "/chat") -> list[Any]:
    """The payloads of `name` events the client received since the last call."""
    return [e["args"][0] for e in client.get_received(namespace) if e["name"] == name]
