"""Erasing files erases their thumbnails too: a user's erasure, retention's file removal
(remove_files) and purge-uploads leave no `<name>.thumb` behind."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from dashboard.extensions import db
from dashboard.models import Attachment, User
from dashboard.services import uploads
from dashboard.services.lifecycle import erasure
from dashboard.services.lifecycle.files import remove_files
from tests.images import jpeg_rotated, png


def _store(app, user_id: str, data: bytes, name: str) -> tuple[str, Path, Path]:
    """Upload through the service; (attachment id, original, thumbnail), both on disk."""
    with app.app_context():
        user = db.session.get(User, user_id)
        att = uploads.save_upload(user, io.BytesIO(data), name, lambda i: f"/api/v1/uploads/{i}")
        storage = db.session.get(Attachment, att["id"]).storage_name
        original = Path(app.config["UPLOAD_DIR"]) / storage
        thumb = uploads.thumbnail_path(storage)
    assert original.is_file() and thumb.is_file()
    return att["id"], original, thumb


def test_erasing_a_user_removes_their_images_and_thumbnails(app, factory):
    zed, olga = factory.user(), factory.user()
    thread = factory.thread(zed, [olga])
    msg = factory.message(thread, zed, "photo")
    sent_id, sent, sent_thumb = _store(app, zed.id, jpeg_rotated(), "a.jpg")
    _, pending, pending_thumb = _store(app, zed.id, png(300, 200), "b.png")
    _, hers, her_thumb = _store(app, olga.id, png(300, 200), "c.png")
    with app.app_context():
        db.session.execute(
            sa.update(Attachment).where(Attachment.id == sent_id).values(message_id=msg.id)
        )
        db.session.commit()
        result = erasure.erase_user(zed.id, actor=None, reason="asked", via="cli")
    assert result.files == 2  # originals; their thumbnails go with them, uncounted
    assert not any(p.exists() for p in (sent, sent_thumb, pending, pending_thumb))
    assert hers.is_file() and her_thumb.is_file()


def test_remove_files_takes_the_thumbnail_and_skips_what_is_not_ours(app, factory):
    alice = factory.user()
    _, original, thumb = _store(app, alice.id, png(500, 500), "p.png")
    with app.app_context():
        assert remove_files([original.name, None, "../etc", ".hidden"]) == 1
        assert remove_files([original.name]) == 0  # already gone: fine
    assert not original.exists() and not thumb.exists()


def test_purge_uploads_removes_thumbnails_of_unsent_uploads(app, factory):
    alice = factory.user()
    att_id, original, thumb = _store(app, alice.id, jpeg_rotated(), "a.jpg")
    with app.app_context():
        db.session.execute(
            sa.update(Attachment)
            .where(Attachment.id == att_id)
            .values(created_at=Attachment.created_at - timedelta(days=2))
        )
        db.session.commit()
        assert uploads.purge_unattached(timedelta(hours=24))[0] == 1
    assert not original.exists() and not thumb.exists()
