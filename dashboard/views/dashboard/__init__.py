"""The operator dashboard (staff only): one route module per area, all on one blueprint."""

from . import moderation_pages, overview, people, threads  # noqa: F401  (each adds routes to bp)
from .blueprint import bp

__all__ = ["bp"]
