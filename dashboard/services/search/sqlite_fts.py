"""The SQLite FTS5 index: create, drop, re-create the triggers, rebuild.

`messages_fts` is an external-content FTS5 table: it stores only the index, and reads the text
from messages.content by the messages table's implicit rowid. Three triggers keep it in step.

Alembic's batch mode (the only way to alter most things on SQLite) copies messages into a new
table and drops the old one: the triggers go with it and the rowids may be renumbered. Any later
migration that runs a batch operation on messages must therefore call `restore(op.get_bind())`
afterwards, which re-creates the triggers and rebuilds the index. A VACUUM can also renumber
implicit rowids: run `flask --app wsgi chatdesk reindex` after one.
"""

from __future__ import annotations

from typing import Any

from .schema import FTS_TABLE, HIDDEN_INDEX, HIDDEN_INDEX_DDL

TOKENIZER = "porter unicode61 remove_diacritics 2"

CREATE_TABLE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5("
    "content, content='messages', content_rowid='rowid', "
    "tokenize='porter unicode61 remove_diacritics 2')"
)
TRIGGERS = (
    """CREATE TRIGGER IF NOT EXISTS messages_fts_ai AFTER INSERT ON messages BEGIN
  INSERT INTO messages_fts(rowid, content) VALUES (new.rowid, new.content);
END""",
    """CREATE TRIGGER IF NOT EXISTS messages_fts_ad AFTER DELETE ON messages BEGIN
  INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
END""",
    """CREATE TRIGGER IF NOT EXISTS messages_fts_au AFTER UPDATE OF content ON messages BEGIN
  INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
  INSERT INTO messages_fts(rowid, content) VALUES (new.rowid, new.content);
END""",
)
TRIGGER_NAMES = tuple(f"{FTS_TABLE}_{s}" for s in ("ai", "ad", "au"))


def _exec(conn: Any, sql: str) -> None:
    conn.exec_driver_sql(sql)


def create(conn: Any) -> None:
    """Create the FTS table and its triggers, and index the existing messages."""
    _exec(conn, CREATE_TABLE)
    restore(conn)


def restore(conn: Any) -> None:
    """Re-create the triggers (and the is:hidden index) and rebuild the FTS index.

    Call it after any batch operation on messages.
    """
    for sql in TRIGGERS:
        _exec(conn, sql)
    _exec(conn, HIDDEN_INDEX_DDL)
    rebuild(conn)


def rebuild(conn: Any) -> None:
    """Re-read every message into the index."""
    _exec(conn, "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")


def drop(conn: Any) -> None:
    """Drop the triggers and the FTS table."""
    for name in TRIGGER_NAMES:
        _exec(conn, f"DROP TRIGGER IF EXISTS {name}")
    _exec(conn, f"DROP TABLE IF EXISTS {FTS_TABLE}")
    _exec(conn, f"DROP INDEX IF EXISTS {HIDDEN_INDEX}")


def has_triggers(conn: Any) -> bool:
    """Whether all three triggers exist."""
    rows = conn.exec_driver_sql(
        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN (?, ?, ?)",
        TRIGGER_NAMES,
    ).scalar()
    return rows == len(TRIGGER_NAMES)
