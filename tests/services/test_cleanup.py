"""Spam clean-up: one UPDATE and one audit INSERT hide a user's messages in a window; undo
restores exactly that set."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from dashboard import events
from dashboard.extensions import db
from dashboard.models import AuditLog, Message, User, utcnow
from dashboard.services import cleanup, moderation
from dashboard.services.errors import Conflict, Forbidden, ValidationFailed


@pytest.fixture
def world(factory):
    mod = factory.user(role="moderator")
    spammer = factory.user()
    bob = factory.user()
    t1 = factory.thread(spammer, [bob])
    t2 = factory.thread(bob, [spammer])
    now = utcnow()
    m = {
        "recent1": factory.message(t1, spammer, "buy now", at=now - timedelta(minutes=5)),
        "recent2": factory.message(t2, spammer, "cheap pills", at=now - timedelta(minutes=30)),
        "old": factory.message(t1, spammer, "an old one", at=now - timedelta(days=3)),
        "deleted": factory.message(
            t1, spammer, "", at=now - timedelta(minutes=2), deleted_at=now - timedelta(minutes=1)
        ),
        "bobs": factory.message(t1, bob, "bob's own", at=now - timedelta(minutes=4)),
    }
    return {"mod": mod, "spammer": spammer, "bob": bob, "t1": t1, "t2": t2, "m": m}


def _statements(app, fn):
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(" ".join(statement.split()).upper())

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        result = fn()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return [s for s in seen if s.startswith(("UPDATE", "INSERT", "DELETE"))], result


def _hidden(ids):
    return {
        mid
        for mid, at in db.session.execute(sa.select(Message.id, Message.hidden_at)).all()
        if at is not None and mid in ids
    }


def test_hides_the_window_in_one_update_and_one_audit_insert(app, world):
    m = world["m"]
    updated = []

    def listen(thread_id, message):
        updated.append((thread_id, message["id"], message["content"], message["metadata"]))

    events.subscribe("message_updated", listen)
    try:
        with app.app_context():
            actor = db.session.get(User, world["mod"].id)
            writes, result = _statements(
                app,
                lambda: cleanup.clean_up(
                    actor, world["spammer"].id, window="hour", reason=" spam run "
                ),
            )
            assert len(writes) == 2, writes
            assert writes[0].startswith("UPDATE MESSAGES SET")
            assert writes[1].startswith("INSERT INTO AUDIT_LOG")
            expected = sorted([m["recent1"].id, m["recent2"].id])
            assert result.message_ids == expected
            assert result.thread_ids == sorted([world["t1"].id, world["t2"].id])
            all_ids = {x.id for x in m.values()}
            assert _hidden(all_ids) == set(expected)
            row = db.session.scalar(sa.select(AuditLog))
            assert (row.action, row.target_id, row.reason) == (
                "user.cleanup",
                world["spammer"].id,
                "spam run",
            )
            assert row.details["messageIds"] == expected and row.details["count"] == 2
            assert db.session.get(User, world["spammer"].id).is_active
    finally:
        events.unsubscribe("message_updated", listen)
    # Each hidden message went to its thread's open chats, as end users see it: emptied.
    assert sorted(u[1] for u in updated) == expected
    assert all(u[2] == "" and u[3]["removed"] == "moderator" for u in updated)


def test_undo_restores_exactly_that_set(app, world, factory):
    m = world["m"]
    second = factory.user(role="moderator")
    with app.app_context():
        actor = db.session.get(User, world["mod"].id)
        # Hidden before the clean-up by another action: the clean-up neither takes nor undoes it.
        moderation.hide_message(actor, m["old"].id, "rude")
        done = cleanup.clean_up(actor, world["spammer"].id, window="all", reason="spam")
        assert done.message_ids == sorted([m["recent1"].id, m["recent2"].id])
        # One of the set is restored and hidden again by someone else: not the undo's to touch.
        other = db.session.get(User, second.id)
        moderation.restore_message(other, m["recent2"].id, "oops")
        moderation.hide_message(other, m["recent2"].id, "really spam")
        writes, undo = _statements(app, lambda: cleanup.undo(actor, done.audit_id))
        assert len(writes) == 2, writes
        assert writes[0].startswith("UPDATE MESSAGES SET")
        assert writes[1].startswith("INSERT INTO AUDIT_LOG")
        assert undo.message_ids == [m["recent1"].id]
        all_ids = {x.id for x in m.values()}
        assert _hidden(all_ids) == {m["old"].id, m["recent2"].id}
        assert db.session.get(Message, m["recent2"].id).hidden_reason == "really spam"
        with pytest.raises(Conflict):
            cleanup.undo(actor, done.audit_id)
        (row,) = db.session.scalars(
            sa.select(AuditLog).where(AuditLog.action == "user.cleanup.undo")
        ).all()
        assert row.target_type == "cleanup" and row.target_id == done.audit_id
        assert row.details["messageIds"] == [m["recent1"].id]


def test_deactivate_too_and_undo_reactivates(app, world):
    ended = []

    def on_end(user_id):
        ended.append(user_id)

    events.subscribe("sessions_ended", on_end)
    try:
        with app.app_context():
            actor = db.session.get(User, world["mod"].id)
            writes, done = _statements(
                app,
                lambda: cleanup.clean_up(
                    actor, world["spammer"].id, window="day", reason="spam", deactivate=True
                ),
            )
            kinds = [" ".join(w.split()[:2]) for w in writes]
            assert kinds.count("INSERT INTO") == 1  # both audit rows in one INSERT
            assert done.deactivated and not db.session.get(User, world["spammer"].id).is_active
            actions = db.session.scalars(sa.select(AuditLog.action).order_by(AuditLog.id)).all()
            assert sorted(actions) == ["user.cleanup", "user.deactivate"]
            back = cleanup.undo(actor, done.audit_id)
            assert back.reactivated and db.session.get(User, world["spammer"].id).is_active
    finally:
        events.unsubscribe("sessions_ended", on_end)
    assert ended == [world["spammer"].id]


def test_custom_window_and_refusals(app, world, factory):
    m = world["m"]
    support = factory.user(role="support")
    other_mod = factory.user(role="moderator")
    with app.app_context():
        actor = db.session.get(User, world["mod"].id)
        now = utcnow()
        since = (now - timedelta(days=4)).isoformat()
        until = (now - timedelta(days=1)).isoformat()
        done = cleanup.clean_up(
            actor, world["spammer"].id, window="custom", since=since, until=until, reason="x"
        )
        assert done.message_ids == [m["old"].id]
        for kw, field in (
            ({"window": "custom", "since": "", "until": ""}, "since"),
            ({"window": "custom", "since": until, "until": since}, "until"),
            ({"window": "custom", "since": "yesterday"}, "since"),
            ({"window": "year"}, "window"),
        ):
            with pytest.raises(ValidationFailed) as err:
                cleanup.clean_up(actor, world["spammer"].id, reason="x", **kw)
            assert field in err.value.details["fields"]
        with pytest.raises(ValidationFailed):
            cleanup.clean_up(actor, world["spammer"].id, window="all", reason="  ")
        with pytest.raises(Forbidden):
            cleanup.clean_up(
                db.session.get(User, support.id), world["spammer"].id, window="all", reason="x"
            )
        with pytest.raises(Forbidden):  # staff accounts are the admins'
            cleanup.clean_up(actor, other_mod.id, window="all", reason="x")
        with pytest.raises(Forbidden):
            cleanup.clean_up(actor, actor.id, window="all", reason="x")
        # Nothing left in the window: nothing written, no audit row.
        before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog))
        empty = cleanup.clean_up(
            actor, world["spammer"].id, window="custom", since=since, until=until, reason="x"
        )
        assert empty.audit_id is None and empty.count == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) == before
