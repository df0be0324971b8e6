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
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import Attachment, Message, Participant, User, new_id, utcnow
from ..serializers import attachment_json
from .errors import NotFound, PayloadTooLarge, ValidationFailed

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


def save_upload(
    uploader: User, stream: IO[bytes], filename: str | None, make_url: Callable[[str], str]
) -> dict[str, Any]:
    """Store an uploaded file; its Attachment JSON (not yet attached to a message)."""
    limit = current_app.config["MAX_UPLOAD_BYTES"]
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
