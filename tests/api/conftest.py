"""API test fixtures: Clerk settings and a small client that calls as a given user."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from .tokens import CLERK_CONFIG, bearer


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """The test app verifies the test key's tokens."""
    app_config.update(CLERK_CONFIG)
    return app_config


class Api:
    """Calls /api/v1 with a bearer token for `as_`."""

    def __init__(self, client: FlaskClient):
        self.client = client

    def call(self, method: str, path: str, as_: Any, **kw: Any):  # type: ignore[no-untyped-def]
        headers = {**bearer(as_), **kw.pop("headers", {})}
        return self.client.open("/api/v1" + path, method=method, headers=headers, **kw)

    def get(self, path: str, as_: Any, **kw: Any):  # type: ignore[no-untyped-def]
        return self.call("GET", path, as_, **kw)

    def post(self, path: str, as_: Any, **kw: Any):  # type: ignore[no-untyped-def]
        return self.call("POST", path, as_, **kw)

    def patch(self, path: str, as_: Any, **kw: Any):  # type: ignore[no-untyped-def]
        return self.call("PATCH", path, as_, **kw)

    def delete(self, path: str, as_: Any, **kw: Any):  # type: ignore[no-untyped-def]
        return self.call("DELETE", path, as_, **kw)


@pytest.fixture
def api(client: FlaskClient) -> Api:
    """The API as any user: `api.post("/threads", alice, json=...)`."""
    return Api(client)
