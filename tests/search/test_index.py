"""The search structures: the reindex command, and surviving a batch migration on SQLite."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations

from dashboard.extensions import db
from dashboard.models import User
from dashboard.services import search as search_service
from dashboard.services.search import sqlite_fts


def found(app, user, q):  # type: ignore[no-untyped-def]
    with app.app_context():
        viewer = db.session.get(User, user.id)
        return [h.message.content for h in search_service.search(viewer, q).items]


def test_reindex_command_rebuilds_the_index(app, runner, factory):
    alice = factory.user()
    t = factory.thread(alice, [])
    factory.message(t, alice, "quarterly refund report")
    if app.config["BACKEND"] == "sqlite":
        with app.app_context():
            # Empty the index behind the triggers' back: search finds nothing any more.
            db.session.execute(
                sa.text("INSERT INTO messages_fts(messages_fts) VALUES ('delete-all')")
            )
            db.session.commit()
        assert found(app, alice, "quarterly") == []
    result = runner.invoke(args=["chatdesk", "reindex"])
    assert result.exit_code == 0, result.output
    assert re.search(r"index rebuilt[^:]*: 1 messages", result.output), result.output
    if app.config["BACKEND"] == "postgresql":  # CI installs the RUM extension: both indexes
        assert "RUM index" in result.output, result.output
    assert found(app, alice, "quarterly") == ["quarterly refund report"]


@pytest.mark.sqlite_only
def test_fts_survives_a_batch_migration_on_messages_with_restore(app, factory):
    alice = factory.user()
    t = factory.thread(alice, [])
    factory.message(t, alice, "before the migration")
    with app.app_context(), db.engine.begin() as conn:
        op = Operations(MigrationContext.configure(conn))
        # What a later migration might do: batch mode copies messages into a new table.
        with op.batch_alter_table("messages", recreate="always") as batch:
            batch.add_column(sa.Column("scratch", sa.Integer(), nullable=True))
        assert not sqlite_fts.has_triggers(conn)  # the batch dropped them
    factory.message(t, alice, "lost after the migration")
    assert found(app, alice, "lost") == []  # without the helper, new messages go unindexed
    with app.app_context(), db.engine.begin() as conn:
        sqlite_fts.restore(conn)
        assert sqlite_fts.has_triggers(conn)
    factory.message(t, alice, "after the migration")
    assert found(app, alice, "migration") == [
        "after the migration",
        "lost after the migration",
        "before the migration",
    ]


@pytest.mark.sqlite_only
def test_fts_follows_edits_moves_and_deletes_with_author_and_thread_tokens(app, factory):
    amy = factory.user(username="amy")
    bob = factory.user(username="bob")
    one = factory.thread(amy, [bob], title="One", name="one")
    two = factory.thread(amy, [bob], title="Two", name="two")
    edited = factory.message(one, amy, "parcel arrived")
    moved = factory.message(one, bob, "parcel lost")
    gone = factory.message(one, amy, "parcel returned")
    with app.app_context():
        db.session.execute(
            sa.text("UPDATE messages SET content = 'label printed' WHERE id = :i"), {"i": edited.id}
        )
        db.session.execute(
            sa.text("UPDATE messages SET thread_id = :t, user_id = :u WHERE id = :i"),
            {"t": two.id, "u": amy.id, "i": moved.id},
        )
        db.session.execute(sa.text("DELETE FROM messages WHERE id = :i"), {"i": gone.id})
        db.session.commit()
        # The index holds exactly what the rows say (FTS5 compares it with messages).
        db.session.execute(
            sa.text("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')")
        )
    assert found(app, amy, "parcel") == ["parcel lost"]
    assert found(app, amy, "label") == ["label printed"]
    assert found(app, amy, "in:two parcel") == ["parcel lost"]
    assert found(app, amy, "in:one parcel") == []
    assert found(app, amy, "from:amy parcel") == ["parcel lost"]
    assert found(app, amy, "from:bob parcel") == []


def scoped(app, user, q):  # type: ignore[no-untyped-def]
    """(contents, strategy) of a staff search."""
    with app.app_context():
        viewer = db.session.get(User, user.id)
        res = search_service.search(viewer, q, all_threads=True)
        return [h.message.content for h in res.items], res.strategy


@pytest.mark.sqlite_only
def test_scope_index_follows_new_messages_edits_moves_and_deletes(app, runner, factory):
    app.config["SEARCH_SCOPE_MIN_MESSAGES"] = 5
    amy = factory.user(username="amy")
    bob = factory.user(username="bob")
    sam = factory.user(username="sam", role="support")
    one = factory.thread(amy, [bob], title="One", name="one")
    two = factory.thread(amy, [bob], title="Two", name="two")
    for i in range(3):
        factory.message(one, amy, f"filler {i}")
    edited = factory.message(one, amy, "parcel arrived")
    moved = factory.message(one, bob, "parcel lost")
    gone = factory.message(one, amy, "parcel returned")
    # Thread one (6 messages) and amy (5) reach the threshold; bob and thread two do not.
    result = runner.invoke(args=["chatdesk", "search-scopes"])
    assert result.exit_code == 0, result.output
    assert "Scope index: 11 messages indexed" in result.output, result.output
    assert scoped(app, sam, "in:one parcel") == (
        ["parcel returned", "parcel lost", "parcel arrived"],
        "collect:scoped",
    )
    factory.message(one, bob, "parcel found")  # indexed by the trigger
    with app.app_context():
        db.session.execute(
            sa.text("UPDATE messages SET content = 'label printed' WHERE id = :i"), {"i": edited.id}
        )
        db.session.execute(
            sa.text("UPDATE messages SET thread_id = :t, user_id = :u WHERE id = :i"),
            {"t": two.id, "u": amy.id, "i": moved.id},
        )
        db.session.execute(sa.text("DELETE FROM messages WHERE id = :i"), {"i": gone.id})
        db.session.commit()
        # The contentless index is consistent in itself (every delete gave the indexed text).
        db.session.execute(
            sa.text("INSERT INTO search_scoped(search_scoped) VALUES ('integrity-check')")
        )
    assert scoped(app, sam, "in:one parcel") == (["parcel found"], "collect:scoped")
    assert scoped(app, sam, "in:one label") == (["label printed"], "collect:scoped")
    assert scoped(app, sam, "from:amy parcel") == (["parcel lost"], "collect:scoped")
    assert scoped(app, sam, "from:amy label") == (["label printed"], "collect:scoped")
    assert scoped(app, sam, "in:one arrived") == ([], "collect:scoped")
    # Thread two is no scope: FTS5's own index answers.
    assert scoped(app, sam, "in:two parcel")[0] == ["parcel lost"]
    # A full re-index builds the scopes again from the rows.
    result = runner.invoke(args=["chatdesk", "reindex"])
    assert result.exit_code == 0, result.output
    assert "scope index, 10 messages" in result.output, result.output
    assert scoped(app, sam, "in:one parcel") == (["parcel found"], "collect:scoped")
    assert scoped(app, sam, "from:amy parcel") == (["parcel lost"], "collect:scoped")


@pytest.mark.postgres_only
def test_mentions_with_words_follow_every_change_and_intersect_in_the_index(app, factory):
    """messages.mentioned (migration 0009) follows the mentions table through sends, edits
    and deletes, and `mentions:X word` reads the (words, mentioned) index, not X's rows."""
    from dashboard.services import messages
    from dashboard.services.search import schema

    amy, bob, cat = (factory.user(username=n) for n in ("amy", "bob", "cat"))
    t = factory.thread(amy, [bob, cat], name="t")
    with app.app_context():
        me = db.session.get(User, amy.id)
        first, _ = messages.send_message(me, t.id, content="refund for @bob please")
        messages.send_message(me, t.id, content="refund for @bob and @cat")
        messages.send_message(me, t.id, content="a refund for nobody")
        messages.send_message(me, t.id, content="@bob hello, no word here")
    assert found(app, amy, "mentions:bob refund") == [
        "refund for @bob and @cat",
        "refund for @bob please",
    ]
    assert found(app, amy, "mentions:cat refund") == ["refund for @bob and @cat"]
    with app.app_context():
        me = db.session.get(User, amy.id)
        messages.edit_message(me, first["id"], "refund, @cat instead")
    assert found(app, amy, "mentions:bob refund") == ["refund for @bob and @cat"]
    assert found(app, amy, "mentions:cat refund") == [
        "refund for @bob and @cat",
        "refund, @cat instead",
    ]
    with app.app_context():
        # Deleting a mention row directly (erasure does) clears it from the message too.
        db.session.execute(sa.text("DELETE FROM mentions WHERE user_id = :u"), {"u": cat.id})
        db.session.commit()
        assert found(app, amy, "mentions:cat refund") == []
        # Negated, a message mentioning nobody still passes.
        assert set(found(app, amy, "-mentions:bob refund")) == {
            "refund, @cat instead",
            "a refund for nobody",
        }
        lists = db.session.execute(
            sa.text("SELECT content, mentioned FROM messages ORDER BY id")
        ).all()
        assert [(c, m and sorted(m)) for c, m in lists] == [
            ("refund, @cat instead", None),
            ("refund for @bob and @cat", [bob.id]),
            ("a refund for nobody", None),
            ("@bob hello, no word here", [bob.id]),
        ]
        # Four rows: the planner would scan them; what matters is that the index applies
        # (its WHERE mentioned IS NOT NULL follows from the @> test; at 10M the plan
        # of `mentions:X refund` is one bitmap scan of it, measured by bench.search).
        db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
        plan = db.session.execute(
            sa.text(
                "EXPLAIN SELECT m.id FROM messages m WHERE m.mentioned @> ARRAY[CAST(:u AS text)]"
            ),
            {"u": bob.id},
        ).scalars()
        assert schema.PG_MENTIONS_INDEX in "\n".join(plan)
