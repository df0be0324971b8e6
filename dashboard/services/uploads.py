"""Uploads: stored under UPLOAD_DIR with random names, typed by their bytes, never the client's.

Images are recognised by Pillow (PNG, JPEG, GIF and WebP only, opened from the stored bytes):
one over MAX_IMAGE_PIXELS is refused before it is decoded (a decompression bomb), and every
image gets a thumbnail at upload time, upright (EXIF orientation applied), at most
THUMBNAIL_SIZE on its longest side, re-encoded without any metadata (no EXIF, GPS, ICC or
text chunks), stored beside the original as `<storage name>.thumb`. The attachment's metadata
gets `width` and `height` (after orientation) and `thumbnail: {url, width, height}`.

Other files get their MIME type from their name through `mimetypes` (Python's own table, not
the host's), kept only when it is on a short allow-list and the bytes agree (text is UTF-8
without NUL, a PDF starts `%PDF-`, a zip `PK`); everything else is
`application/octet-stream`. Non-images are always served as a download, with nosniff.

An upload is served to its uploader, to the participants of a thread holding a message it is
attached to (not once that message is hidden or deleted), and to staff (support and above,
who may read every thread on the dashboard). A support agent opening an original is audited
(`attachment.view`, with the thread and message); thumbnails are not: the dashboard shows one
per image on every thread page it renders, and reading a thread is not audited either, so a
row per thumbnail would flood the log with page views while the deliberate act, opening the
file, is recorded.
"""

from __future__ import annotations

import codecs
import mimetypes
import os
import secrets
import warnings
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError

from ..extensions import db
from ..models import Attachment, Message, Participant, User, new_id, utcnow
from ..serializers import attachment_json
from . import audit
from .errors import NotFound, PayloadTooLarge, RateLimited, ValidationFailed

CHUNK = 64 * 1024
HEAD_BYTES = 8 * 1024  # what the text check reads
THUMB_SUFFIX = ".thumb"
# Pillow format -> MIME type: the only images we accept (no SVG, no TIFF, no BMP, ...).
IMAGE_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
TEXT_TYPES = frozenset({"text/plain", "text/csv", "text/markdown", "application/json"})
ZIP_TYPES = frozenset(
    {
        "application/zip",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
    }
)
OCTET = "application/octet-stream"
_MIME = mimetypes.MimeTypes()  # Python's built-in table only: the same answer on every host
_MIME.add_type("text/markdown", ".md")
_MIME.add_type("text/plain", ".log")


def _is_text(head: bytes) -> bool:
    """UTF-8 (a character cut at the end of the sample is fine) without NUL or other C0
    controls than tab, newline, carriage return and form feed."""
    if b"\x00" in head:
        return False
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return not any(ord(c) < 32 and c not in "\t\n\r\f" for c in text)


def file_mime(filename: str | None, head: bytes) -> str:
    """The MIME type of a non-image upload: from its name when allowed and its bytes agree."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    guessed, encoding = _MIME.guess_type(filename or "", strict=False)
    if guessed is None or encoding is not None:
        return OCTET
    if guessed in TEXT_TYPES:
        return guessed if _is_text(head) else OCTET
    if guessed in ZIP_TYPES:
        return guessed if head.startswith(b"PK\x03\x04") else OCTET
    return OCTET


def thumbnail_path(storage_name: str) -> Path:
    """Where an upload's thumbnail is stored."""
    return Path(current_app.config["UPLOAD_DIR"]) / (storage_name + THUMB_SUFFIX)


def _too_many_pixels(size: tuple[int, int] | None, cap: int) -> ValidationFailed:
    details: dict[str, Any] = {"fields": {"file": "too_many_pixels"}, "maxPixels": cap}
    said = "This image is too large"
    if size:
        details.update(width=size[0], height=size[1])
        said = f"This image is {size[0]} x {size[1]} pixels"
    return ValidationFailed(
        f"{said}: images of at most {cap:,} pixels are accepted. Send a smaller one.", details
    )


def make_thumbnail(original: Path, target: Path) -> dict[str, Any] | None:
    """Open `original` as an image and write its thumbnail to `target`.

    Returns {mimeType, width, height (upright), thumbWidth, thumbHeight}, or None when the
    bytes are not an image we accept (or not a decodable one). Raises ValidationFailed
    (`too_many_pixels`) for an image over MAX_IMAGE_PIXELS, before decoding it.
    """
    cap = current_app.config["MAX_IMAGE_PIXELS"]
    box = current_app.config["THUMBNAIL_SIZE"]
    with warnings.catch_warnings():
        # Pillow's own bomb check (at twice its default limit an error, below a warning) backs
        # up ours; either way nothing is decoded.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = Image.open(original, formats=list(IMAGE_FORMATS))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels(None, cap) from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            return None
        with im:
            width, height = im.size
            if width <= 0 or height <= 0:
                return None
            if width * height > cap:
                raise _too_many_pixels((width, height), cap)
            mime = IMAGE_FORMATS[str(im.format)]
            try:
                orientation = im.getexif().get(0x0112, 1)
                if orientation in (5, 6, 7, 8):
                    width, height = height, width
                if im.format == "JPEG":
                    im.draft("RGB", (box, box))  # decode at 1/2, 1/4 or 1/8 scale: fast
                upright = ImageOps.exif_transpose(im) or im
                has_alpha = upright.mode in ("RGBA", "LA", "PA") or (
                    upright.mode == "P" and "transparency" in upright.info
                )
                thumb = upright.convert("RGBA" if has_alpha else "RGB")
                thumb.thumbnail((box, box), Image.Resampling.LANCZOS)
                thumb.info = {}  # nothing of the original's metadata goes into the thumbnail
                tmp = target.with_name(target.name + ".tmp")
                with open(tmp, "wb") as out:
                    if has_alpha:
                        thumb.save(out, format="PNG", optimize=True)
                    else:
                        thumb.save(out, format="JPEG", quality=82, optimize=True)
                os.replace(tmp, target)
            except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
                target.with_name(target.name + ".tmp").unlink(missing_ok=True)
                return None
            return {
                "mimeType": mime,
                "width": width,
                "height": height,
                "thumbWidth": thumb.width,
                "thumbHeight": thumb.height,
            }


def image_metadata(info: dict[str, Any], thumbnail_url: str) -> dict[str, Any]:
    """The attachment metadata of CONTRACTS.md for an image `make_thumbnail` read."""
    return {
        "width": info["width"],
        "height": info["height"],
        "thumbnail": {
            "url": thumbnail_url,
            "width": info["thumbWidth"],
            "height": info["thumbHeight"],
        },
    }


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
    """Store an uploaded file (and an image's thumbnail); its Attachment JSON (not yet attached
    to a message). `make_url(id)` is the file's URL; its thumbnail's is that plus `/thumbnail`.

    Limited per file (MAX_UPLOAD_BYTES, 413), per image (MAX_IMAGE_PIXELS, 422) and per user
    and day (UPLOADS_PER_DAY, UPLOAD_BYTES_PER_DAY, 429): the bytes are counted while they
    arrive, so a file that would pass the day's allowance is refused before it is all written.
    A refused upload leaves nothing behind, neither row nor file.
    """
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    left = _quota_left(uploader.id)
    folder = Path(current_app.config["UPLOAD_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    storage_name = secrets.token_urlsafe(24)
    path = folder / storage_name
    thumb = thumbnail_path(storage_name)
    size = 0
    head = b""
    att_id = new_id()
    name = _clean_name(filename)
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
                if len(head) < HEAD_BYTES:
                    head = (head + chunk)[:HEAD_BYTES]
                out.write(chunk)
        if size == 0:
            raise ValidationFailed("The file is empty.", {"fields": {"file": "empty"}})
        meta: dict[str, Any] = {"name": name} if name else {}
        info = make_thumbnail(path, thumb)
        if info is not None:
            kind, mime = "image", info["mimeType"]
            meta.update(image_metadata(info, make_url(att_id) + "/thumbnail"))
        else:
            kind, mime = "file", file_mime(name, head)
        att = Attachment(
            id=att_id,
            uploader_id=uploader.id,
            type=kind,
            url=make_url(att_id),
            mime_type=mime,
            size=size,
            original_name=name,
            storage_name=storage_name,
            created_at=utcnow(),
            meta=meta,
        )
        db.session.add(att)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        path.unlink(missing_ok=True)
        thumb.unlink(missing_ok=True)
        raise
    return attachment_json(att)


def _thread_of(att: Attachment) -> str | None:
    if att.message_id is None:
        return None
    return db.session.scalar(sa.select(Message.thread_id).where(Message.id == att.message_id))


def _may_see(viewer: User, att: Attachment) -> str | None:
    """Why `viewer` may see `att`: "uploader", "participant", "staff"; None: they may not."""
    if att.uploader_id == viewer.id:
        return "uploader"
    if att.message_id is None:
        return None  # not sent yet: the uploader's alone
    member = db.session.scalar(
        sa.select(Participant.user_id)
        .join(Message, Message.thread_id == Participant.thread_id)
        .where(
            Message.id == att.message_id,
            Participant.user_id == viewer.id,
            Message.hidden_at.is_(None),
            Message.deleted_at.is_(None),
        )
    )
    if member is not None:
        return "participant"
    if viewer.is_staff and viewer.is_active:
        return "staff"  # staff read every thread on the dashboard, removed messages included
    return None


def open_upload(viewer: User, attachment_id: str) -> tuple[Path, Attachment]:
    """The stored file and its row, if `viewer` may see it; NotFound otherwise.

    A support agent who sees it only as staff gets an `attachment.view` audit row (committed
    here) with the thread and message it belongs to.
    """
    att = db.session.get(Attachment, attachment_id)
    if att is None or att.storage_name is None:
        raise NotFound("There is no such file.")
    why = _may_see(viewer, att)
    if why is None:
        raise NotFound("There is no such file.")
    path = Path(current_app.config["UPLOAD_DIR"]) / att.storage_name
    if not path.is_file():
        raise NotFound("There is no such file.")
    if why == "staff" and viewer.role == "support":
        audit.record(
            viewer,
            "attachment.view",
            "attachment",
            att.id,
            details={
                "threadId": _thread_of(att),
                "messageId": att.message_id,
                "name": att.original_name,
                "actorRole": viewer.role,
            },
        )
        db.session.commit()
    return path, att


def open_thumbnail(viewer: User, attachment_id: str) -> tuple[Path, str, Attachment]:
    """(thumbnail file, its MIME type, the row) for an image `viewer` may see; NotFound
    otherwise. Never audited (see the module's note). An image stored before thumbnails
    existed gets its thumbnail and metadata now, once."""
    att = db.session.get(Attachment, attachment_id)
    if att is None or att.storage_name is None or att.type != "image":
        raise NotFound("There is no such file.")
    if _may_see(viewer, att) is None:
        raise NotFound("There is no such file.")
    thumb = thumbnail_path(att.storage_name)
    if not thumb.is_file():
        if not _fill_metadata(att):
            raise NotFound("There is no such file.")
        db.session.commit()
    with open(thumb, "rb") as f:
        mime = "image/png" if f.read(8) == b"\x89PNG\r\n\x1a\n" else "image/jpeg"
    return thumb, mime, att


def _fill_metadata(att: Attachment) -> bool:
    """Make a stored image's thumbnail and put its metadata on the row (the caller commits);
    False when the original is missing or is not an image we can read."""
    if att.storage_name is None:
        return False
    original = Path(current_app.config["UPLOAD_DIR"]) / att.storage_name
    try:
        info = make_thumbnail(original, thumbnail_path(att.storage_name))
    except (ValidationFailed, OSError):
        return False
    if info is None:
        return False
    thumbnail_url = f"/api/v1/uploads/{att.id}/thumbnail"  # the route, as CONTRACTS.md has it
    att.meta = {**(att.meta or {}), **image_metadata(info, thumbnail_url)}
    return True


def fill_image_metadata(limit: int = 1000) -> int:
    """Thumbnails and width/height/thumbnail metadata for up to `limit` stored images without
    them (the seed's demo images; any other such image gets its own on first request). How
    many were filled."""
    rows = db.session.scalars(
        sa.select(Attachment)
        .where(Attachment.type == "image", Attachment.storage_name.is_not(None))
        .order_by(Attachment.id)
    )
    filled = 0
    for att in rows:
        if filled >= limit:
            break
        meta = att.meta if isinstance(att.meta, dict) else {}
        if not isinstance(meta.get("thumbnail"), dict) and _fill_metadata(att):
            filled += 1
    db.session.commit()
    return filled


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
            thumbnail_path(str(name)).unlink(missing_ok=True)
            count += 1
            total += size or 0
    return count, total
