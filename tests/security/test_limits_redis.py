"""With REDIS_URL the per-user limits hold across processes (two apps stand for two)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from dashboard import create_app
from dashboard.extensions import db
from tests.api.tokens import bearer

pytestmark = [pytest.mark.redis, pytest.mark.postgres_only]
_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def _forget_the_queue():
    """create_app keeps the Redis client manager in the shared SocketIO's options: drop it after."""
    yield
    from dashboard.extensions import socketio

    socketio.server_options.pop("client_manager", None)


@pytest.fixture
def app_config(app_config: dict[str, Any], redis_url: str) -> dict[str, Any]:
    app_config.update(REDIS_URL=redis_url, RATELIMIT_ENABLED=True, SEND_RATE_LIMIT="3/minute")
    return app_config


def send(client, user, thread_id):  # type: ignore[no-untyped-def]
    body = {"clientId": f"r-{next(_ids)}", "content": "hi"}
    return client.post(f"/api/v1/threads/{thread_id}/messages", json=body, headers=bearer(user))


def test_one_send_bucket_across_processes(app, app_config, factory):
    other = create_app(app_config)
    try:
        alice = factory.user()
        thread = factory.thread(alice)
        here, there = app.test_client(), other.test_client()
        codes = [send(c, alice, thread.id).status_code for c in (here, there, here, there)]
        assert codes == [201, 201, 201, 429]
    finally:
        with other.app_context():
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()
