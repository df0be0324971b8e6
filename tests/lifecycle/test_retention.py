"""Retention: threads archived longer than RETENTION_ARCHIVED_DAYS go, files and index too."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from dashboard.extensions import db
from dashboard.models import Attachment, AuditLog, Message, Thread, User, utcnow
from dashboard.services import search as search_service

from .data import index_hits


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """Keep archives 30 days; batches of two messages."""
    app_config.update(RETENTION_ARCHIVED_DAYS=30, LIFECYCLE_BATCH_SIZE=2)
    return app_config


def _thread(app, factory, owner, other, title: str, word: str, archived_days: int | None):  # type: ignore[no-untyped-def]
    now = utcnow()
    t = factory.thread(owner, [other], title=title, at=now - timedelta(days=90))
    msgs = [
        factory.message(
            t,
            owner if i % 2 else other,
            f"{word} number {i}",
            at=now - timedelta(days=80, minutes=-i),
        )
        for i in range(5)
    ]
    factory.message(t, owner, f"{word} reply", parent_id=msgs[0].id, at=now - timedelta(days=79))
    uploads = Path(app.config["UPLOAD_DIR"])
    uploads.mkdir(parents=True, exist_ok=True)
    name = f"file-{title}"
    (uploads / name).write_bytes(b"bytes")
    factory.attachment(msgs[1], owner, type="file", url=f"/u/{name}", storage_name=name)
    if archived_days is not None:
        with app.app_context():
            db.session.execute(
                sa.update(Thread)
                .where(Thread.id == t.id)
                .values(is_archived=True, archived_at=now - timedelta(days=archived_days))
            )
            db.session.commit()
    return t, uploads / name


def _count(model: Any, *where: Any) -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)))


def test_dry_run_counts_equal_the_real_run_and_search_forgets(app, runner, factory):
    a, b = factory.user(), factory.user()
    staff = factory.user(role="support")
    old1, file1 = _thread(app, factory, a, b, "old1", "quetzalpurge", archived_days=45)
    old2, file2 = _thread(app, factory, a, b, "old2", "quetzalpurge", archived_days=31)
    _recent, file3 = _thread(app, factory, a, b, "recent", "quetzalkeep", archived_days=5)
    _active, file4 = _thread(app, factory, a, b, "active", "quetzalactive", archived_days=None)
    factory.report(factory.message(old1, b, "quetzalpurge report me"), a)
    with app.app_context():
        assert index_hits("quetzalpurge") == 13

    dry = runner.invoke(args=["chatdesk", "retention", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Would delete 2 threads" in dry.output and "13 messages, 2 files" in dry.output
    with app.app_context():
        assert _count(Thread) == 4 and _count(Message) == 25  # a dry run changes nothing
    assert file1.exists()

    real = runner.invoke(args=["chatdesk", "retention"])
    assert real.exit_code == 0, real.output
    assert "Deleted 2 threads" in real.output and "13 messages, 2 files" in real.output
    with app.app_context():
        assert {t.title for t in db.session.scalars(sa.select(Thread))} == {"recent", "active"}
        assert _count(Message) == 12
        assert _count(Message, Message.thread_id.in_([old1.id, old2.id])) == 0
        assert _count(Attachment) == 2
        assert index_hits("quetzalpurge") == 0
        assert index_hits("quetzalkeep") == 6
        viewer = db.session.get(User, staff.id)
        assert search_service.search(viewer, "quetzalpurge", all_threads=True).items == []
        assert len(search_service.search(viewer, "quetzalkeep", all_threads=True).items) == 6
        purges = list(
            db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "thread.purge"))
        )
        assert {p.target_id for p in purges} == {old1.id, old2.id}
        assert sum(p.details["messages"] for p in purges) == 13
        [summary] = db.session.scalars(
            sa.select(AuditLog).where(AuditLog.action == "retention.run")
        )
        assert (summary.details["threads"], summary.details["messages"]) == (2, 13)
        assert summary.details["files"] == 2
    assert not file1.exists() and not file2.exists()
    assert file3.exists() and file4.exists()

    again = runner.invoke(args=["chatdesk", "retention"])
    assert "Deleted 0 threads" in again.output


def test_retention_unset_keeps_everything(app, runner, factory):
    app.config["RETENTION_ARCHIVED_DAYS"] = None
    a, b = factory.user(), factory.user()
    _thread(app, factory, a, b, "ancient", "keepme", archived_days=4000)
    result = runner.invoke(args=["chatdesk", "retention"])
    assert result.exit_code == 0 and "kept" in result.output
    with app.app_context():
        assert _count(Thread) == 1 and _count(Message) == 6
