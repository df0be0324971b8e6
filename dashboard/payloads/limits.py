"""The bounds a payload is checked against, taken from the columns and the settings.

Nothing here is a second copy of a number: column lengths are read from the models' tables,
the configurable limits from the app's config (SPEC §5: content, title, attachments, page
size), and the metadata size from the messages service that also checks it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ..models import Attachment, Message, Report, Thread, User
from ..services.messages import METADATA_MAX, SYNC_BATCH


def column_length(column: sa.ColumnElement[Any]) -> int:
    """The declared length of a String column."""
    length = getattr(column.type, "length", None)
    if not isinstance(length, int):
        raise TypeError(f"{column} has no declared length")
    return length


ID_MAX = column_length(Message.__table__.c.id)
CLIENT_ID_MAX = column_length(Message.__table__.c.client_id)
TITLE_COLUMN_MAX = column_length(Thread.__table__.c.title)
NAME_MAX = column_length(Thread.__table__.c.name)
REASON_MAX = column_length(Report.__table__.c.reason)
URL_MAX = column_length(Attachment.__table__.c.url)
USERNAME_MAX = column_length(User.__table__.c.username)
EMAIL_MAX = column_length(User.__table__.c.email)
FIRST_NAME_MAX = column_length(User.__table__.c.first_name)
LAST_NAME_MAX = column_length(User.__table__.c.last_name)
IMAGE_URL_MAX = column_length(User.__table__.c.image_url)

# How deep a metadata object may nest (the whole body has strict_json.MAX_DEPTH).
METADATA_DEPTH = 16
# The threads service refuses more participants per request than this.
IDS_PER_REQUEST_MAX = 100
# A sync cursor is base64 of a time and an id; an ISO time is shorter still.
SINCE_MAX = 256
SYNC_LIMIT_MAX = 500

__all__ = ["METADATA_MAX", "SYNC_BATCH", "Limits"]


@dataclass(frozen=True)
class Limits:
    """The configurable limits in force for one app (SPEC §5), as the request models use them."""

    content: int
    title: int
    attachments: int
    page: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Limits:
        """The limits of an app's config; a title never exceeds its column."""
        return cls(
            content=int(config["MAX_MESSAGE_CHARS"]),
            title=min(int(config["MAX_TITLE_CHARS"]), TITLE_COLUMN_MAX),
            attachments=int(config["MAX_ATTACHMENTS"]),
            page=int(config["MAX_PAGE_SIZE"]),
        )
