"""The operator dashboard (staff only): one route module per area, all on one blueprint.

`blueprint.py` makes `bp` (/dashboard); `overview` (the overview and its live counts),
`threads` (thread list, bulk archive, thread page, hide/restore, export), `people` (users,
presence) and `moderation_pages` (reports, audit log) add routes to it. Templates live in
templates/dashboard/, partials start with `_`. Imports what its parent `views` may.
"""

from . import lifecycle_pages, moderation_pages, overview, people, threads  # noqa: F401
from .blueprint import bp

__all__ = ["bp"]
