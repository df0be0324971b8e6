"""The staff thread list (filters, keyset pages) and archiving (single and bulk)."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from dashboard.extensions import db
from dashboard.models import AuditLog, Participant, Thread, User, new_id
from dashboard.services import threads as threads_service
from dashboard.services.errors import NotFound, ValidationFailed
from dashboard.services.pagination import BadCursor
from dashboard.services.threads import ThreadFilters

T0 = datetime(2026, 10, 1, 12, 0, 0)


def _titles(page):
    return [r.thread.title for r in page.rows]


def _walk(filters, limit):
    """Every page of the list, following the cursor; returns the ids in order."""
    ids, cursor, pages = [], None, 0
    while True:
        page = threads_service.browse_threads(filters, cursor=cursor, limit=limit)
        ids += [r.thread.id for r in page.rows]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            return ids, pages


def test_filters(app, factory):
    alice = factory.user(username="alice")
    bob = factory.user(username="bob")
    carol = factory.user(username="carol")
    t1 = factory.thread(alice, [bob], title="Refund for order", at=T0)
    factory.thread(bob, [carol], title="Shipping delay", at=T0 + timedelta(days=2))
    factory.thread(
        carol, [alice], title="refund again", at=T0 + timedelta(days=4), is_archived=True
    )
    factory.message(t1, bob, "late reply", at=T0 + timedelta(days=10))
    with app.app_context():
        lt = threads_service.browse_threads
        assert _titles(lt(ThreadFilters())) == ["Refund for order", "Shipping delay"]
        assert _titles(lt(ThreadFilters(state="archived"))) == ["refund again"]
        assert len(lt(ThreadFilters(state="all")).rows) == 3
        assert _titles(lt(ThreadFilters(state="all", q="REFUND"))) == [
            "Refund for order",
            "refund again",
        ]
        assert _titles(lt(ThreadFilters(state="all", participant="Alice"))) == [
            "Refund for order",
            "refund again",
        ]
        assert _titles(lt(ThreadFilters(state="all", creator="bob"))) == ["Shipping delay"]
        assert lt(ThreadFilters(creator="nobody")).rows == []
        assert _titles(
            lt(
                ThreadFilters(
                    state="all",
                    created_from=T0 + timedelta(days=1),
                    created_to=T0 + timedelta(days=3),
                )
            )
        ) == ["Shipping delay"]
        assert _titles(lt(ThreadFilters(state="all", active_from=T0 + timedelta(days=5)))) == [
            "Refund for order"
        ]
        # Sort: by last activity t1 is newest; by creation t3 is.
        assert _titles(lt(ThreadFilters(state="all")))[0] == "Refund for order"
        assert _titles(lt(ThreadFilters(state="all", sort="created"))) == [
            "refund again",
            "Shipping delay",
            "Refund for order",
        ]
        # LIKE wildcards in the title text are literal.
        assert lt(ThreadFilters(state="all", q="%")).rows == []
        row = lt(ThreadFilters(state="all", q="shipping")).rows[0]
        assert [u.username for u in row.users] == ["bob", "carol"]


@pytest.mark.parametrize("sort", ["activity", "created"])
def test_keyset_pages_have_no_duplicates_or_gaps(app, factory, sort):
    user = factory.user()
    made = []
    for i in range(23):
        # Groups of three threads share one timestamp: the id breaks the tie.
        made.append(factory.thread(user, at=T0 + timedelta(hours=i // 3)).id)
    with app.app_context():
        ids, pages = _walk(ThreadFilters(state="all", sort=sort), limit=5)
        expected = [
            t.id
            for t in db.session.scalars(
                sa.select(Thread).order_by(Thread.last_activity_at.desc(), Thread.id.desc())
            )
        ]
    assert pages == 5
    assert len(ids) == len(set(ids)) == 23
    assert set(ids) == set(made)
    assert ids == expected


def test_malformed_cursor_is_refused(app):
    with app.app_context(), pytest.raises(BadCursor):
        threads_service.browse_threads(ThreadFilters(), cursor="not-a-cursor!")


def test_bulk_archive_is_one_update_and_one_insert(app, factory):
    mod = factory.user(role="moderator")
    user = factory.user()
    already = factory.thread(user, title="old", is_archived=True)
    with app.app_context():
        # 500 threads (with a participant each) in two bulk inserts.
        fresh = [new_id(T0 + timedelta(seconds=i)) for i in range(500)]
        db.session.execute(
            sa.insert(Thread),
            [
                {
                    "id": tid,
                    "title": f"T{i}",
                    "creator_id": user.id,
                    "created_at": T0,
                    "updated_at": T0,
                    "last_activity_at": T0 + timedelta(seconds=i),
                    "meta": {},
                }
                for i, tid in enumerate(fresh)
            ],
        )
        db.session.execute(
            sa.insert(Participant), [{"thread_id": tid, "user_id": user.id} for tid in fresh]
        )
        db.session.commit()
    threads = [SimpleNamespace(id=tid) for tid in fresh]
    ids = [*fresh, already.id]
    statements: list[str] = []
    with app.app_context():
        actor = db.session.get(User, mod.id)

        def count(conn, cursor, statement, params, context, executemany):
            statements.append(statement.split()[0].upper() + " " + statement)

        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            changed = threads_service.set_archived(actor, ids, True, "  spam wave  ")
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        writes = [s for s in statements if s.split()[0] in ("UPDATE", "INSERT", "DELETE")]
        assert len(writes) == 2, writes
        assert writes[0].startswith("UPDATE") and "threads" in writes[0]
        assert writes[1].startswith("INSERT") and "audit_log" in writes[1]
        assert sorted(changed) == sorted(t.id for t in threads)
        rows = db.session.scalars(sa.select(AuditLog).order_by(AuditLog.target_id)).all()
        assert [r.target_id for r in rows] == sorted(t.id for t in threads)
        assert {(r.action, r.actor_id, r.reason, r.target_type) for r in rows} == {
            ("thread.archive", mod.id, "spam wave", "thread")
        }
        archived = threads_service.browse_threads(ThreadFilters(state="archived"), limit=100)
        assert len(archived.rows) == 100 and archived.next_cursor
        assert threads_service.browse_threads(ThreadFilters()).rows == []
        # Unarchive a few: only those, audited as such.
        back = threads_service.set_archived(actor, ids[:3], False, "mistake")
        assert sorted(back) == sorted(ids[:3])
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(AuditLog.action == "thread.unarchive")
            )
            == 3
        )


@pytest.mark.parametrize("reason", ["", "   ", None, "x" * 1001])
def test_bad_reason_changes_nothing(app, factory, reason):
    mod = factory.user(role="moderator")
    t = factory.thread(mod)
    with app.app_context():
        actor = db.session.get(User, mod.id)
        with pytest.raises(ValidationFailed):
            threads_service.set_archived(actor, [t.id], True, reason)
        db.session.rollback()
        assert db.session.get(Thread, t.id).is_archived is False
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) == 0


def test_single_archive_and_missing_thread(app, factory):
    mod = factory.user(role="moderator")
    t = factory.thread(mod)
    with app.app_context():
        actor = db.session.get(User, mod.id)
        assert threads_service.archive_thread(actor, t.id, "done") is True
        assert threads_service.archive_thread(actor, t.id, "again") is False  # no change, no row
        assert db.session.get(Thread, t.id).archived_at is not None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) == 1
        assert threads_service.archive_thread(actor, t.id, "reopen", archived=False) is True
        assert db.session.get(Thread, t.id).is_archived is False
        with pytest.raises(NotFound):
            threads_service.archive_thread(actor, "nope", "x")


def test_thread_messages_pages(app, factory):
    user = factory.user()
    t = factory.thread(user)
    msgs = [factory.message(t, user, f"m{i}", at=T0 + timedelta(minutes=i)) for i in range(12)]
    ids = [m.id for m in msgs]
    with app.app_context():
        first = threads_service.thread_messages(t.id, limit=5)
        assert [m.id for m in first.messages] == ids[7:]
        assert first.has_earlier
        earlier = threads_service.thread_messages(t.id, before=ids[7], limit=5)
        assert [m.id for m in earlier.messages] == ids[2:7]
        oldest = threads_service.thread_messages(t.id, before=ids[2], limit=5)
        assert [m.id for m in oldest.messages] == ids[:2] and not oldest.has_earlier
        around = threads_service.thread_messages(t.id, around=ids[4], limit=5)
        assert ids[4] in [m.id for m in around.messages]
        assert around.target_id == ids[4] and around.has_earlier and around.has_later
        later = threads_service.thread_messages(t.id, after=around.messages[-1].id, limit=5)
        assert later.messages[0].id == ids[ids.index(around.messages[-1].id) + 1]
        with pytest.raises(NotFound):
            threads_service.thread_messages(t.id, around="missing")
