"""Thread exports as JSON (the seed's shapes) or CSV, produced in keyset batches.

The generators hold one batch of messages at a time, so a 100k-message thread never sits in
memory; the view streams them. Each export is audited (`thread.export`) before it starts.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Message, User
from ..serializers import iso, message_json, thread_json
from . import audit, threads
from .errors import ValidationFailed

FORMATS = ("json", "csv")
BATCH = 1000
CSV_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "user_id",
    "username",
    "parent_id",
    "content",
    "status",
    "mentions",
    "attachments",
    "removed",
    "hidden_reason",
)
# Cells a spreadsheet would run as a formula (CSV injection); they get a leading apostrophe.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Export:
    """A started export: the file name, its media type and the chunks of its body."""

    filename: str
    mimetype: str
    chunks: Iterator[str]


@dataclass
class Watermarks:
    delivered: dict[str, str | None]
    read: dict[str, str | None]

    def status(self, msg: Message) -> str:
        """SPEC §2: delivered/read once every other participant's watermark has passed it."""
        others = [uid for uid in self.delivered if uid != msg.user_id]
        if not others:
            return "sent"
        if all((self.read[u] or "") >= msg.id for u in others):
            return "read"
        if all((self.delivered[u] or "") >= msg.id for u in others):
            return "delivered"
        return "sent"


def start_export(actor: User, thread_id: str, fmt: str) -> Export:
    """Audit the export of a thread and return its streamed body in `fmt` (json or csv)."""
    if fmt not in FORMATS:
        raise ValidationFailed("Export as json or csv.", {"format": "unknown"})
    row = threads.thread_row(thread_id)
    thread = row.thread
    audit.record(
        actor,
        "thread.export",
        "thread",
        thread.id,
        details={"format": fmt, "messages": thread.message_count},
    )
    db.session.commit()
    users = row.users
    marks = Watermarks(
        {p.user_id: p.delivered_through for p in thread.participants},
        {p.user_id: p.read_through for p in thread.participants},
    )
    head = thread_json(thread, users, full_users=True)
    stem = f"thread-{thread.id}"
    if fmt == "json":
        return Export(f"{stem}.json", "application/json; charset=utf-8", _json_chunks(head, marks))
    return Export(f"{stem}.csv", "text/csv; charset=utf-8", _csv_chunks(head["id"], marks))


def _batches(thread_id: str) -> Iterator[list[Message]]:
    """The thread's messages oldest first, BATCH at a time (keyset on id, no OFFSET)."""
    after = ""
    while True:
        batch = list(
            db.session.scalars(
                sa.select(Message)
                .where(Message.thread_id == thread_id, Message.id > after)
                .options(
                    selectinload(Message.user),
                    selectinload(Message.mentions),
                    selectinload(Message.attachments),
                )
                .order_by(Message.id)
                .limit(BATCH)
            )
        )
        if not batch:
            return
        yield batch
        after = batch[-1].id
        # Drop the batch from the session so memory stays at one batch.
        db.session.expunge_all()
        if len(batch) < BATCH:
            return


def _message(msg: Message, marks: Watermarks) -> dict:
    return message_json(
        msg,
        author=msg.user,
        mentions=[m.user_id for m in msg.mentions],
        attachments=msg.attachments,
        status=marks.status(msg),
        reveal_removed=True,
    )


def _json_chunks(head: dict, marks: Watermarks) -> Iterator[str]:
    yield '{"thread": ' + json.dumps(head, ensure_ascii=False) + ', "messages": ['
    first = True
    for batch in _batches(head["id"]):
        parts = [json.dumps(_message(m, marks), ensure_ascii=False) for m in batch]
        yield ("" if first else ",") + "\n" + ",\n".join(parts)
        first = False
    yield "\n]}\n"


def _cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _csv_chunks(thread_id: str, marks: Watermarks) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    yield buf.getvalue()
    usernames: dict[str, str] = {}
    for batch in _batches(thread_id):
        buf.seek(0)
        buf.truncate()
        missing = {m.user_id for m in batch} - usernames.keys()
        for m in batch:
            if m.user_id in missing:
                usernames[m.user_id] = m.user.username
        for m in batch:
            writer.writerow(
                [
                    m.id,
                    iso(m.created_at),
                    iso(m.updated_at),
                    m.user_id,
                    _cell(usernames[m.user_id]),
                    m.parent_id or "",
                    _cell(m.content),
                    marks.status(m),
                    " ".join(x.user_id for x in m.mentions),
                    " ".join(a.url or "" for a in m.attachments),
                    m.removed_by or "",
                    _cell(m.hidden_reason or ""),
                ]
            )
        yield buf.getvalue()
