"""Security test fixtures: the test app verifies the test key's Clerk tokens."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.tokens import CLERK_CONFIG


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """The test app verifies the test key's tokens."""
    app_config.update(CLERK_CONFIG)
    return app_config
