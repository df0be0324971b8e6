"""Fixtures for the payload-boundary tests: the API as a user, sockets, raw JSON senders."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from dashboard.extensions import db
from dashboard.models import Message, Report, Thread
from dashboard.payloads import strict_json
from tests.api.conftest import api  # noqa: F401  (the fixture)
from tests.api.tokens import CLERK_CONFIG, bearer
from tests.realtime.conftest import _fresh_presence, socket_client  # noqa: F401  (fixtures)

CHAT = "/chat"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """The test app verifies the test key's tokens."""
    app_config.update(CLERK_CONFIG)
    return app_config


def post_raw(client: Any, path: str, user: Any, text: str, method: str = "POST") -> Any:
    """Send `text` as the JSON body, byte for byte (NaN, 1e999 and deep nesting included)."""
    return client.open(
        "/api/v1" + path,
        method=method,
        data=text.encode("utf-8", "surrogatepass"),
        content_type="application/json",
        headers=bearer(user),
    )


def emit_raw(sock: Any, event: str, payload_text: str, namespace: str = CHAT) -> Any:
    """Emit `event` with a payload written as raw JSON text; the server's ack."""
    sock.callback_counter += 1
    packet = f'2{namespace},{sock.callback_counter}["{event}",{payload_text}]'
    sock.socketio.server._handle_eio_message(sock.eio_sid, packet)
    ack, sock.acks = sock.acks, None
    assert ack is not None, f"{event} was not answered"
    return ack["args"][0]


def counts(app: Any) -> dict[str, int]:
    """How many messages, threads and reports are stored."""
    with app.app_context():
        return {
            model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Message, Thread, Report)
        }


def assert_refused(resp: Any, status: int = 400) -> dict[str, Any]:
    """A SPEC §5 JSON error with `status`; the error object."""
    assert resp.status_code == status, resp.get_data(as_text=True)[:500]
    body = strict_json.loads(resp.get_data())
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def assert_refused_ack(ack: Any) -> dict[str, Any]:
    """An `{ok: false, error: {code: "validation_failed"}}` ack; the error object."""
    assert ack["ok"] is False, ack
    assert ack["error"]["code"] == "validation_failed", ack
    return ack["error"]


def assert_threads_load(caller: Any, user: Any) -> None:
    """The user's thread list still answers with strict JSON (their chat page loads)."""
    resp = caller.get("/threads", user)
    assert resp.status_code == 200
    strict_json.loads(resp.get_data())
