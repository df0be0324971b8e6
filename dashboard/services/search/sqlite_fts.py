# ruff: noqa: S608 - the SQL here is fixed text; ids are read by SQLite itself, never formatted in.
"""The SQLite FTS5 index: create, drop, re-create the triggers, rebuild.

`messages_fts` is an external-content FTS5 table: it stores only the index and reads the text
from messages.content. Its rowid is `messages.search_rowid`, an integer made from the message id
(UUIDv7: 48 bits of milliseconds and 12 bits of sequence, times 8, plus a tie-breaker for the
rare ids that share those 60 bits), so FTS5's rowid order is the messages' time order: the
newest matches of a word come straight off the index, in order, without a sort.

A second FTS column indexes `messages.search_tags`: a token for the author (`u<user id>0`)
and one for the thread (`t<thread id>0`), so that `from:`, `in:` and an end user's threads
combine with the words inside FTS5 (doclist intersections in rowid order) instead of being
tested row by row. The tokens end in a digit so the porter stemmer leaves them whole. Only the
message's own columns make tags: a trigger on mentions or attachments would have to name
messages, and a batch migration's rename of its copy of messages fails on such triggers.
Triggers on messages fill search_rowid and search_tags and keep the index in step.

Alembic's batch mode (the only way to alter most things on SQLite) copies messages into a new
table and drops the old one, and the triggers go with it. Any later migration that runs a batch
operation on messages must call `restore(op.get_bind())` afterwards, which re-creates the
triggers and the indexes and rebuilds the FTS index.
"""

from __future__ import annotations

from typing import Any

from .schema import FTS_TABLE, HIDDEN_INDEX, HIDDEN_INDEX_DDL

ROWID_COLUMN = "search_rowid"
TAGS_COLUMN = "search_tags"
ROWID_INDEX = "ix_messages_search_rowid"
TOKENIZER = "porter unicode61 remove_diacritics 2"
# Hex digits of a UUIDv7 string that make its 48-bit time and 12-bit sequence.
_HEX_POSITIONS = (1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 16, 17, 18)


def key_sql(col: str) -> str:
    """SQL for the time-ordered 63-bit key of an id column (before the tie-breaker)."""
    n = len(_HEX_POSITIONS)
    terms = [
        f"(instr('0123456789abcdef', lower(substr({col}, {p}, 1))) - 1) * {16 ** (n - 1 - i)}"
        for i, p in enumerate(_HEX_POSITIONS)
    ]
    return "((" + " + ".join(terms) + ") * 8)"


def _next_free(col: str) -> str:
    """SQL for the first free search_rowid at or after the key of `col` (ties go up by one)."""
    base = key_sql(col)
    return (
        f"(SELECT coalesce(max(search_rowid) + 1, {base}) FROM messages "
        f"WHERE search_rowid >= {base} AND search_rowid < {base} + 8)"
    )


def _tok(prefix: str, col: str) -> str:
    return f"'{prefix}' || lower(replace({col}, '-', '')) || '0'"


# The tags of the messages row being updated (used in UPDATE messages SET search_tags = …).
TAGS_SQL = f"({_tok('u', 'messages.user_id')} || ' ' || {_tok('t', 'messages.thread_id')})"


def tag(prefix: str, value: str) -> str:
    """The token TAGS_SQL makes for an id (prefix u or t), in Python."""
    return f"{prefix}{value.replace('-', '').lower()}0"


ADD_COLUMN = "ALTER TABLE messages ADD COLUMN search_rowid INTEGER"
ADD_TAGS_COLUMN = "ALTER TABLE messages ADD COLUMN search_tags TEXT"
CREATE_ROWID_INDEX = (
    "CREATE UNIQUE INDEX IF NOT EXISTS ix_messages_search_rowid ON messages (search_rowid)"
)
# Existing rows: the key plus their rank among rows with the same key.
BACKFILL = (
    "UPDATE messages SET search_rowid = k.v FROM (SELECT r, key + row_number() OVER "
    "(PARTITION BY key ORDER BY id) - 1 AS v FROM (SELECT rowid AS r, id, "
    f"{key_sql('id')} AS key FROM messages)) AS k WHERE messages.rowid = k.r"
)
BACKFILL_TAGS = f"UPDATE messages SET search_tags = {TAGS_SQL} WHERE search_tags IS NULL"
CREATE_TABLE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5("
    "content, search_tags, content='messages', content_rowid='search_rowid', "
    f"tokenize='{TOKENIZER}')"
)


def _retag(where: str) -> str:
    return f"  UPDATE messages SET search_tags = {TAGS_SQL} WHERE {where};\n"


TRIGGERS = (
    # A new message: its key and tags, then index it (the update below does not, as the
    # row had no tags yet).
    "CREATE TRIGGER IF NOT EXISTS messages_fts_ai AFTER INSERT ON messages BEGIN\n"
    f"  UPDATE messages SET search_rowid = coalesce(search_rowid, {_next_free('new.id')}),\n"
    f"    search_tags = {TAGS_SQL} WHERE rowid = new.rowid;\n"
    "  INSERT INTO messages_fts(rowid, content, search_tags)\n"
    "    SELECT search_rowid, content, search_tags FROM messages WHERE rowid = new.rowid;\n"
    "END",
    "CREATE TRIGGER IF NOT EXISTS messages_fts_ad AFTER DELETE ON messages BEGIN\n"
    "  INSERT INTO messages_fts(messages_fts, rowid, content, search_tags)\n"
    "    VALUES ('delete', old.search_rowid, old.content, old.search_tags);\n"
    "END",
    "CREATE TRIGGER IF NOT EXISTS messages_fts_au AFTER UPDATE OF content, search_tags "
    "ON messages WHEN old.search_tags IS NOT NULL BEGIN\n"
    "  INSERT INTO messages_fts(messages_fts, rowid, content, search_tags)\n"
    "    VALUES ('delete', old.search_rowid, old.content, old.search_tags);\n"
    "  INSERT INTO messages_fts(rowid, content, search_tags)\n"
    "    VALUES (new.search_rowid, new.content, new.search_tags);\n"
    "END",
    "CREATE TRIGGER IF NOT EXISTS messages_fts_am AFTER UPDATE OF thread_id, user_id "
    "ON messages BEGIN\n" + _retag("rowid = new.rowid") + "END",
)
TRIGGER_NAMES = tuple(f"{FTS_TABLE}_{s}" for s in ("ai", "ad", "au", "am"))


def key(message_id: str) -> int:
    """The same key as key_sql(), computed in Python (for rowid bounds)."""
    digits = "".join(message_id[p - 1] for p in _HEX_POSITIONS if p <= len(message_id))
    try:
        return int(digits, 16) * 8
    except ValueError:
        return 0


def _exec(conn: Any, sql: str) -> None:
    conn.exec_driver_sql(sql)


def create(conn: Any, *, rebuild: bool = True) -> None:
    """Add search_rowid (filled for existing rows), the FTS table and triggers; index all."""
    columns = {row[1] for row in conn.exec_driver_sql("PRAGMA table_info(messages)")}
    if ROWID_COLUMN not in columns:
        _exec(conn, ADD_COLUMN)
    if TAGS_COLUMN not in columns:
        _exec(conn, ADD_TAGS_COLUMN)
    _exec(conn, CREATE_TABLE)
    restore(conn, rebuild=rebuild)


def restore(conn: Any, *, rebuild: bool = True) -> None:
    """Re-create the triggers and indexes, fill missing keys, rebuild the FTS index.

    Call it after any batch operation on messages.
    """
    if conn.exec_driver_sql("SELECT 1 FROM messages WHERE search_rowid IS NULL LIMIT 1").first():
        _exec(conn, f"DROP INDEX IF EXISTS {ROWID_INDEX}")
        _exec(conn, "UPDATE messages SET search_rowid = NULL")
        _exec(conn, BACKFILL)
    _exec(conn, CREATE_ROWID_INDEX)
    _exec(conn, HIDDEN_INDEX_DDL)
    if conn.exec_driver_sql("SELECT 1 FROM messages WHERE search_tags IS NULL LIMIT 1").first():
        _exec(conn, BACKFILL_TAGS)
    for sql in TRIGGERS:
        _exec(conn, sql)
    from . import sqlite_scopes  # it imports this module's tokenizer

    sqlite_scopes.create_triggers(conn)  # when the scope index exists (0008)
    if rebuild:
        rebuild_index(conn)


def rebuild_index(conn: Any) -> None:
    """Re-read every message into the index."""
    _exec(conn, "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")


def drop(conn: Any) -> None:
    """Drop the triggers, the FTS table, the key column and the indexes."""
    for name in TRIGGER_NAMES:
        _exec(conn, f"DROP TRIGGER IF EXISTS {name}")
    _exec(conn, f"DROP TABLE IF EXISTS {FTS_TABLE}")
    _exec(conn, f"DROP INDEX IF EXISTS {HIDDEN_INDEX}")
    _exec(conn, f"DROP INDEX IF EXISTS {ROWID_INDEX}")
    columns = {row[1] for row in conn.exec_driver_sql("PRAGMA table_info(messages)")}
    for column in (ROWID_COLUMN, TAGS_COLUMN):
        if column in columns:
            _exec(conn, f"ALTER TABLE messages DROP COLUMN {column}")


def has_triggers(conn: Any) -> bool:
    """Whether all the triggers exist."""
    marks = ", ".join("?" for _ in TRIGGER_NAMES)
    rows = conn.exec_driver_sql(
        f"SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ({marks})",
        TRIGGER_NAMES,
    ).scalar()
    return rows == len(TRIGGER_NAMES)
