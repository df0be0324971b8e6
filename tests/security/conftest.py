"""Security test fixtures: the test app verifies the test key's Clerk tokens."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.api.tokens import CLERK_CONFIG

WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"chatdesk-security-tests!").decode()


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """The test app verifies the test key's tokens."""
    app_config.update(CLERK_CONFIG)
    app_config["CLERK_WEBHOOK_SECRET"] = WEBHOOK_SECRET  # the webhook route is live
    return app_config
