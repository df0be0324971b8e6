"""Removing stored upload files (the rows are the caller's business)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from flask import current_app

log = logging.getLogger(__name__)


def remove_files(storage_names: Iterable[str | None]) -> int:
    """Unlink each stored file under UPLOAD_DIR; how many were there. Missing ones are fine."""
    folder = Path(current_app.config["UPLOAD_DIR"])
    removed = 0
    for name in storage_names:
        if not name or "/" in name or "\\" in name or name.startswith("."):
            continue  # storage names are random tokens: anything else is not ours to touch
        path = folder / name
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("could not remove upload %s: %s", path, exc)
    return removed
