"""A small world around one user to export and erase, and whole-database snapshots."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa

from dashboard.extensions import db
from dashboard.models import Attachment, User
from dashboard.services import audit
from dashboard.services.search import schema

T0 = datetime(2026, 11, 10, 9, 0, 0)
# Strings only the erased user's data contains: none may survive the erasure anywhere.
PERSONAL = (
    "zebulonxq",
    "zebulon.unique@example.test",
    "Zebediah",
    "Quixworth",
    "https://img.example.test/zebulon.png",
    "xylophonequartz",
    "marzipanblimp",
    "vortexmango",
    "zebulon-secret-plan.pdf",
)


def world(app: Any, factory: Any) -> SimpleNamespace:
    """Zebulon (to erase) shares a thread with Olga; both write, upload, reply and report."""
    w = SimpleNamespace()
    w.zed = factory.user(
        username="zebulonxq",
        email="zebulon.unique@example.test",
        first_name="Zebediah",
        last_name="Quixworth",
        image_url="https://img.example.test/zebulon.png",
        password="zebulon's password",
        last_login_at=T0,
        last_seen_at=T0,
    )
    w.olga = factory.user(username="olga", email="olga@example.test", first_name="Olga")
    w.mod = factory.user(role="moderator")
    w.shared = factory.thread(w.zed, [w.olga], title="Plans", at=T0)
    w.solo = factory.thread(w.zed, [], title="Notes to self", at=T0)
    w.z1 = factory.message(w.shared, w.zed, "my xylophonequartz idea", at=T0 + timedelta(minutes=1))
    w.o1 = factory.message(
        w.shared, w.olga, "olga answers politely", at=T0 + timedelta(minutes=2), parent_id=w.z1.id
    )
    w.z2 = factory.message(
        w.shared,
        w.zed,
        "marzipanblimp with @olga",
        at=T0 + timedelta(minutes=3),
        mentions=(w.olga,),
        parent_id=w.o1.id,
    )
    w.z3 = factory.message(w.solo, w.zed, "xylophonequartz diary", at=T0 + timedelta(minutes=4))
    w.z4 = factory.message(
        w.solo,
        w.zed,
        "marzipanblimp again, mail zebulon.unique@example.test",
        at=T0 + timedelta(minutes=5),
    )
    w.o2 = factory.message(w.shared, w.olga, "olga closes the topic", at=T0 + timedelta(minutes=6))
    factory.attachment(w.z1, w.zed, url="https://zebulon.example.test/vortexmango")
    uploads = Path(app.config["UPLOAD_DIR"])
    uploads.mkdir(parents=True, exist_ok=True)
    w.files = []
    for i, (msg_id, name) in enumerate(((w.z2.id, "zebulon-secret-plan.pdf"), (None, "x.pdf"))):
        storage = f"zedfile{i}"
        (uploads / storage).write_bytes(b"%PDF-1.4 zebulon private bytes")
        w.files.append(uploads / storage)
        with app.app_context():
            db.session.add(
                Attachment(
                    message_id=msg_id,
                    uploader_id=w.zed.id,
                    type="file",
                    url=f"/api/v1/uploads/{storage}",
                    mime_type="application/pdf",
                    size=30,
                    original_name=name,
                    storage_name=storage,
                    meta={"name": name},
                )
            )
            db.session.commit()
    # Olga's own upload: must survive.
    (uploads / "olgafile").write_bytes(b"olga bytes")
    factory.attachment(
        w.o1, w.olga, type="file", url="/api/v1/uploads/olgafile", storage_name="olgafile"
    )
    w.olga_file = uploads / "olgafile"
    w.report = factory.report(w.o2, w.zed, "vortexmango says olga is rude")
    with app.app_context():
        audit.record(
            db.session.get(User, w.mod.id), "user.deactivate", "user", w.zed.id, reason="spam"
        )
        db.session.commit()
    return w


def snapshot(exclude: tuple[str, ...] = ()) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every model table, as sorted tuples of strings (inside an app context)."""
    out: dict[str, list[tuple[str, ...]]] = {}
    for table in db.metadata.sorted_tables:
        if table.name in exclude:
            continue
        rows = db.session.execute(sa.select(table)).all()
        out[table.name] = sorted(tuple(str(v) for v in row) for row in rows)
    return out


def index_hits(word: str) -> int:
    """How many messages the search index itself matches for `word` (both backends)."""
    if db.engine.dialect.name == "sqlite":
        sql = "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH :w"
        return int(db.session.scalar(sa.text(sql), {"w": f'"{word}"'}))
    # The index splits words at punctuation (see search.schema): ask it the same way, as a phrase.
    sql = (
        "SELECT count(*) FROM messages WHERE search_tsv @@ "
        f"phraseto_tsquery('english', {schema.pg_index_text(':w')})"
    )
    return int(db.session.scalar(sa.text(sql), {"w": word}))
