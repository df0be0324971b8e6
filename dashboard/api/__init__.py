"""The JSON API (/api/v1) for the end users' chat."""

from . import (
    openapi,  # noqa: F401  (registers GET /openapi.json on bp)
    search,  # noqa: F401  (registers GET /search on bp)
)
from .views import bp

__all__ = ["bp"]
