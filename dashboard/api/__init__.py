"""The JSON API (/api/v1) for the end users' chat."""

from .views import bp

__all__ = ["bp"]
