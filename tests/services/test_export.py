"""Thread exports: JSON in the seed's shape, CSV columns, batches, audit."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from dashboard.extensions import db
from dashboard.models import AuditLog, Participant, User
from dashboard.services import export, moderation
from dashboard.services.errors import NotFound, ValidationFailed
from tests.test_serializers import MESSAGE_FIELDS as MESSAGE_KEYS
from tests.test_serializers import THREAD_FIELDS as THREAD_KEYS
from tests.test_serializers import USER_FIELDS as USER_KEYS

T0 = datetime(2026, 11, 1, 9, 0, 0)


@pytest.fixture
def thread_with_messages(app, factory, monkeypatch):
    monkeypatch.setattr(export, "BATCH", 3)  # several batches from a small thread
    mod = factory.user(role="moderator")
    a = factory.user(username="ann")
    b = factory.user(username="ben")
    t = factory.thread(a, [b], title="Export me")
    msgs = []
    for i in range(8):
        msgs.append(
            factory.message(t, a if i % 2 else b, f"message {i}", at=T0 + timedelta(minutes=i))
        )
    reply = factory.message(
        t, a, "=SUM(A1:A2) @ben", parent_id=msgs[0].id, mentions=(b,), at=T0 + timedelta(minutes=20)
    )
    factory.attachment(msgs[1], a, url="https://example.com/x")
    with app.app_context():
        db.session.execute(
            sa.update(Participant)
            .where(Participant.thread_id == t.id)
            .values(delivered_through=reply.id, read_through=msgs[3].id)
        )
        db.session.commit()
        moderation.hide_message(db.session.get(User, mod.id), msgs[2].id, "rude")
    return mod, t, [*msgs, reply]


def test_json_export_shape(app, thread_with_messages):
    mod, t, msgs = thread_with_messages
    with app.app_context():
        result = export.start_export(db.session.get(User, mod.id), t.id, "json")
        chunks = list(result.chunks)
    assert len(chunks) > 3  # streamed in pieces, not one string
    doc = json.loads("".join(chunks))
    assert set(doc) == {"thread", "messages"}
    assert set(doc["thread"]) == THREAD_KEYS
    assert doc["thread"]["title"] == "Export me"
    assert [set(u) for u in doc["thread"]["participants"]] == [USER_KEYS, USER_KEYS]
    assert [m["id"] for m in doc["messages"]] == [m.id for m in msgs]
    assert all(set(m) == MESSAGE_KEYS for m in doc["messages"])
    assert doc["messages"][0]["createdAt"].endswith("Z")
    hidden = doc["messages"][2]
    assert hidden["metadata"]["removed"] == "moderator" and hidden["content"] == "message 2"
    assert doc["messages"][1]["attachments"][0]["url"] == "https://example.com/x"
    last = doc["messages"][-1]
    assert last["parentId"] == msgs[0].id and last["mentions"] == [msgs[0].user_id]
    # read through message 3, delivered through everything.
    assert doc["messages"][3]["status"] == "read"
    assert last["status"] == "delivered"
    with app.app_context():
        row = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "thread.export"))
        assert (row.target_id, row.actor_id, row.details["format"]) == (t.id, mod.id, "json")


def test_csv_export(app, thread_with_messages):
    mod, t, msgs = thread_with_messages
    with app.app_context():
        result = export.start_export(db.session.get(User, mod.id), t.id, "csv")
        text = "".join(result.chunks)
    assert result.filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == export.CSV_COLUMNS
    assert [r["id"] for r in rows] == [m.id for m in msgs]
    assert rows[2]["removed"] == "moderator" and rows[2]["hidden_reason"] == "rude"
    assert rows[-1]["content"] == "'=SUM(A1:A2) @ben"  # no formula injection
    assert rows[-1]["parent_id"] == msgs[0].id
    assert rows[1]["attachments"] == "https://example.com/x"


def test_export_refuses_bad_input(app, factory):
    mod = factory.user(role="moderator")
    t = factory.thread(mod)
    with app.app_context():
        actor = db.session.get(User, mod.id)
        with pytest.raises(ValidationFailed):
            export.start_export(actor, t.id, "xml")
        with pytest.raises(NotFound):
            export.start_export(actor, "missing", "json")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) == 0


def test_empty_thread_exports(app, factory):
    mod = factory.user(role="moderator")
    t = factory.thread(mod)
    with app.app_context():
        doc = json.loads(
            "".join(export.start_export(db.session.get(User, mod.id), t.id, "json").chunks)
        )
    assert doc["messages"] == [] and doc["thread"]["id"] == t.id
