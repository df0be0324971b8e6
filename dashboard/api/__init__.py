"""The JSON API (/api/v1) for the end users' chat."""

from . import openapi  # noqa: F401  (registers GET /openapi.json on bp)
from .views import bp

__all__ = ["bp"]
