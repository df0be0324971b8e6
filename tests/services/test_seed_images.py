"""The seed's demo images get what a real upload gets: a thumbnail on disk and width, height
and thumbnail in their metadata (CONTRACTS.md), so the demo's pages show sized thumbnails."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from dashboard.extensions import db
from dashboard.models import Attachment
from dashboard.services.seed import seed


def test_seeded_images_have_thumbnails_and_metadata(app):
    folder = app.config["UPLOAD_DIR"]
    with app.app_context():
        seed(users=20, threads=30, messages=4000, upload_dir=folder, now=datetime(2026, 11, 30))
        images = list(db.session.scalars(sa.select(Attachment).where(Attachment.type == "image")))
    assert images, "the seed made no image attachments: raise the message count"
    for att in images:
        meta = att.meta
        assert (meta["width"], meta["height"]) == (32, 32)
        assert meta["thumbnail"] == {
            "url": f"/api/v1/uploads/{att.id}/thumbnail",
            "width": 32,
            "height": 32,
        }
        assert (Path(folder) / f"{att.storage_name}.thumb").is_file()
