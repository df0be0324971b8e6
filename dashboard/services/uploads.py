"""Uploads: stored under UPLOAD_DIR with random names, typed by sniffing their first bytes.

The type comes from magic numbers, never from the client's filename or Content-Type: PNG, JPEG,
GIF and WebP are `image`, everything else `file` (served as a download). Four signatures do not
justify a dependency. An upload is served only to its uploader and to the participants of a
thread holding a message it is attached to.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import Attachment, Message, Participant, User, new_id, utcnow
from ..serializers import attachment_json
from .errors import NotFound, PayloadTooLarge, RateLimited, ValidationFailed

SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
)
CHUNK = 64 * 1024


def sniff(head: bytes) -> tuple[str, str]:
    """(attachment type, MIME type) from a file's first bytes."""
    for magic, offset, mime in SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return "image", mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image", "image/webp"
    if head[:5] == b"%PDF-":
        return "file", "application/pdf"
    return "file", "application/octet-stream"


def _clean_name(name: str | None) -> str | None:
    if not name:
        return None
    base = os.path.basename(name.replace("\\", "/")).strip()
    cleaned = "".join(c for c in base if c.isprintable() and c not in '"\r\n')
    return cleaned[:255] or None


def used_today(uploader_id: str) -> tuple[int, int]:
    """(uploads, bytes) the user stored in the last 24 hours (the database is the counter, so
    every process sees the same figures)."""
    since = utcnow() - timedelta(days=1)
    count, total = db.session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Attachment.size), 0)).where(
            Attachment.uploader_id == uploader_id,
            Attachment.storage_name.is_not(None),
            Attachment.created_at >= since,
        )
    ).one()
    return int(count or 0), int(total or 0)


def _quota_left(uploader_id: str) -> int:
    """Bytes the user may still upload today; RateLimited when the count or bytes are spent."""
    cfg = current_app.config
    count, total = used_today(uploader_id)
    per_day, bytes_per_day = cfg["UPLOADS_PER_DAY"], cfg["UPLOAD_BYTES_PER_DAY"]
    details = {"uploadsPerDay": per_day, "bytesPerDay": bytes_per_day, "bytesUsed": total}
    if count >= per_day:
        raise RateLimited(f"At most {per_day} uploads a day. Try again later.", details)
    if total >= bytes_per_day:
        raise RateLimited("Today's upload allowance is used up. Try again later.", details)
    return bytes_per_day - total


def save_upload(
    uploader: User, stream: IO[bytes], filename: str | None, make_url: Callable[[str], str]
) -> dict[str, Any]:
    """Store an uploaded file; its Attachment JSON (not yet attached to a message).

    Limited per file (MAX_UPLOAD_BYTES, 413) and per user and day (UPLOADS_PER_DAY,
    UPLOAD_BYTES_PER_DAY, 429): the bytes are counted while they arrive, so a file that would
    pass the day's allowance is refused before it is all written.
    """
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    left = _quota_left(uploader.id)
    folder = Path(current_app.config["UPLOAD_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    storage_name = secrets.token_urlsafe(24)
    path = folder / storage_name
    size = 0
    head = b""
    try:
        with open(path, "xb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"An upload is at most {limit} bytes.", {"limit": limit})
                if size > left:
                    raise RateLimited(
                        "This file would pass today's upload allowance. Try again later.",
                        {"bytesLeft": left},
                    )
                if len(head) < 16:
                    head = (head + chunk)[:16]
                out.write(chunk)
        if size == 0:
            raise ValidationFailed("The file is empty.", {"fields": {"file": "empty"}})
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    kind, mime = sniff(head)
    att_id = new_id()
    att = Attachment(
        id=att_id,
        uploader_id=uploader.id,
        type=kind,
        url=make_url(att_id),
        mime_type=mime,
        size=size,
        original_name=_clean_name(filename),
        storage_name=storage_name,
        created_at=utcnow(),
        meta={"name": _clean_name(filename)} if filename else {},
    )
    db.session.add(att)
    try:
        db.session.commit()
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return attachment_json(att)


def open_upload(user_id: str, attachment_id: str) -> tuple[Path, Attachment]:
    """The stored file and its row, if `user_id` may see it; NotFound otherwise."""
    att = db.session.get(Attachment, attachment_id)
    if att is None or att.storage_name is None:
        raise NotFound("There is no such file.")
    allowed = att.uploader_id == user_id
    if not allowed and att.message_id is not None:
        allowed = (
            db.session.scalar(
                sa.select(Participant.user_id)
                .join(Message, Message.thread_id == Participant.thread_id)
                .where(
                    Message.id == att.message_id,
                    Participant.user_id == user_id,
                    Message.hidden_at.is_(None),
                    Message.deleted_at.is_(None),
                )
            )
            is not None
        )
    if not allowed:
        raise NotFound("There is no such file.")
    path = Path(current_app.config["UPLOAD_DIR"]) / att.storage_name
    if not path.is_file():
        raise NotFound("There is no such file.")
    return path, att


def purge_unattached(older_than: timedelta, *, dry_run: bool = False) -> tuple[int, int]:
    """Remove uploads never sent with a message after `older_than`: rows and files.

    Returns (uploads, bytes). A file already missing from disk is fine (a crash between the
    unlink and the commit of an earlier run); the row goes anyway.
    """
    cutoff = utcnow() - older_than
    folder = Path(current_app.config["UPLOAD_DIR"])
    unattached = (
        Attachment.message_id.is_(None),
        Attachment.storage_name.is_not(None),
        Attachment.created_at < cutoff,
    )
    stale = sa.select(Attachment).where(*unattached).order_by(Attachment.id)
    if dry_run:
        count, total = db.session.execute(
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Attachment.size), 0)).where(
                *unattached
            )
        ).one()
        db.session.rollback()
        return int(count or 0), int(total or 0)
    count = total = 0
    while ids := list(db.session.scalars(stale.with_only_columns(Attachment.id).limit(500))):
        # The same conditions again: an upload sent with a message meanwhile stays.
        gone = db.session.execute(
            sa.delete(Attachment)
            .where(Attachment.id.in_(ids), *unattached)
            .returning(Attachment.storage_name, Attachment.size)
        ).all()
        db.session.commit()
        for name, size in gone:
            (folder / str(name)).unlink(missing_ok=True)
            count += 1
            total += size or 0
    return count, total
