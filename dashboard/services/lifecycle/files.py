"""Removing stored upload files and their thumbnails (the rows are the caller's business)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from flask import current_app

from ..uploads import THUMB_SUFFIX

log = logging.getLogger(__name__)


def remove_files(storage_names: Iterable[str | None]) -> int:
    """Unlink each stored file under UPLOAD_DIR and its thumbnail (`<name>.thumb`, if any);
    how many files were there (thumbnails not counted). Missing ones are fine."""
    folder = Path(current_app.config["UPLOAD_DIR"])
    removed = 0
    for name in storage_names:
        if not name or "/" in name or "\\" in name or name.startswith("."):
            continue  # storage names are random tokens: anything else is not ours to touch
        for path, counted in ((folder / name, True), (folder / (name + THUMB_SUFFIX), False)):
            try:
                path.unlink()
                removed += counted
            except FileNotFoundError:
                pass
            except OSError as exc:
                log.warning("could not remove upload %s: %s", path, exc)
    return removed
