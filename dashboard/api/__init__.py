"""The JSON API (/api/v1) for the end users' chat, its errors and the OpenAPI document.

Each endpoint parses its input, calls one service and returns the serializers' JSON; errors
are the services' errors turned into `{"error": {...}}` bodies.

May import what lies below it (services, serializers, auth, models, extensions), not the views
or realtime. Nothing imports it but the app factory; models and services never do
(tests/test_layers.py).
"""

from . import (
    openapi,  # noqa: F401  (registers GET /openapi.json on bp)
    search,  # noqa: F401  (registers GET /search on bp)
)
from .views import bp

__all__ = ["bp"]
