"""A user holds at most MAX_SOCKETS_PER_USER open sockets, /chat and /live together."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from dashboard.extensions import socketio
from tests.api.tokens import token_for

CAP = 3


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """A small cap, so the tests reach it."""
    app_config["MAX_SOCKETS_PER_USER"] = CAP
    return app_config


@pytest.fixture
def open_socket(app):  # type: ignore[no-untyped-def]
    made: list[tuple[Any, str]] = []

    def connect(user: Any, namespace: str = "/chat") -> Any:
        c = socketio.test_client(app, namespace=namespace, auth={"token": token_for(user)})
        made.append((c, namespace))
        return c

    yield connect
    for c, ns in made:
        if c.is_connected(ns):
            with contextlib.suppress(Exception):
                c.disconnect(namespace=ns)


def test_connections_past_the_cap_are_refused(app, factory, open_socket):
    user = factory.user()
    opened = [open_socket(user) for _ in range(CAP)]
    assert all(c.is_connected("/chat") for c in opened)
    extra = open_socket(user)
    assert not extra.is_connected("/chat")
    # The sockets already open keep working.
    ack = opened[0].emit(
        "sync", {"since": "2000-01-01T00:00:00Z"}, namespace="/chat", callback=True
    )
    assert ack["ok"] is True


def test_closing_one_makes_room_for_another(app, factory, open_socket):
    user = factory.user()
    opened = [open_socket(user) for _ in range(CAP)]
    opened[0].disconnect(namespace="/chat")
    assert open_socket(user).is_connected("/chat")
    assert not open_socket(user).is_connected("/chat")


def test_chat_and_live_sockets_count_together(app, factory, open_socket):
    staff = factory.user(role="support")
    assert open_socket(staff, "/live").is_connected("/live")
    assert all(open_socket(staff).is_connected("/chat") for _ in range(CAP - 1))
    assert not open_socket(staff, "/live").is_connected("/live")
    assert not open_socket(staff).is_connected("/chat")


def test_the_cap_is_per_user(app, factory, open_socket):
    alice, bob = factory.user(), factory.user()
    for _ in range(CAP):
        open_socket(alice)
    assert not open_socket(alice).is_connected("/chat")
    assert open_socket(bob).is_connected("/chat")


def test_the_default_cap_is_20(tmp_path):
    from dashboard.config import load_config

    cfg = load_config(str(tmp_path), env={"CHATDESK_TESTING": "1"})
    assert cfg["MAX_SOCKETS_PER_USER"] == 20
