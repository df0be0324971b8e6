"""The operator dashboard (staff only): one route module per area, all on one blueprint."""

from . import lifecycle_pages, moderation_pages, overview, people, threads  # noqa: F401
from .blueprint import bp

__all__ = ["bp"]
