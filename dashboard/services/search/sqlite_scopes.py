# ruff: noqa: S608 - the SQL here is fixed text; values are bound parameters or integers.
"""The SQLite scope index: (word, author or thread) for the large authors and threads.

FTS5 intersects `from:` or `in:` with the words by stepping through both doclists, about
0.4 µs a step. For a thread of 275,000 messages that holds a common word a few times, that is
every one of the thread's postings, on every search (10M messages: 180 to 240 ms). FTS5 has no
index keyed by (scope, word), so this module builds one out of a second FTS5 table:

- `search_scopes`: the large scopes, by the FTS tag of the author or thread (`u…0` or `t…0`,
  see sqlite_fts.py), each with a number `idx` and a counter `n`;
- `search_scoped`: a contentless FTS5 table (same tokenizer) holding the messages of those
  scopes, each under the rowid `idx * 2**32 + n`: one scope's messages are one rowid range, and
  FTS5 seeks a term's doclist straight to a rowid range;
- `search_scoped_rows`: which message each of those rowids is.

So "this thread's messages with these words" reads only the matches inside the range. Triggers
on messages keep the three in step (a message of a large scope is indexed again when it is
inserted, edited, moved or deleted). A scope joins when it reaches `min_rows` messages:
`promote()` (run by the seed, `chatdesk reindex` and `chatdesk search-scopes`, which a
deployment runs from cron) adds it, backfills its messages in batches of their own
transactions (new messages are added by the triggers meanwhile), then marks it ready. Only
ready scopes are searched this way; until then a search takes the usual path (slower, the same
results).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .sqlite_fts import TOKENIZER

SCOPES = "search_scopes"
ROWS = "search_scoped_rows"
FTS = "search_scoped"
SPAN = 1 << 32  # one scope's rowids: idx * SPAN + n, n < SPAN
BATCH = 20_000

DDL = (
    # column: user_id or thread_id; ref: that id.
    f"CREATE TABLE IF NOT EXISTS {SCOPES} (tag TEXT PRIMARY KEY, idx INTEGER NOT NULL UNIQUE, "
    "col TEXT NOT NULL, ref TEXT NOT NULL, n INTEGER NOT NULL DEFAULT 0, "
    "ready INTEGER NOT NULL DEFAULT 0)",
    f"CREATE TABLE IF NOT EXISTS {ROWS} (srid INTEGER PRIMARY KEY, message_id TEXT NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS ix_{ROWS}_message ON {ROWS} (message_id)",
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS} USING fts5("
    f"content, content='', columnsize=0, tokenize='{TOKENIZER}')",
)


def _tags(row: str) -> str:
    """SQL: the FTS tags (author, thread) of a trigger's `new` or `old` row (as sqlite_fts)."""
    u = f"'u' || lower(replace({row}.user_id, '-', '')) || '0'"
    t = f"'t' || lower(replace({row}.thread_id, '-', '')) || '0'"
    return f"({u}, {t})"


def _add(row: str) -> str:
    """Trigger statements: index `row` under each large scope it is in."""
    return (
        f"  INSERT INTO {ROWS}(srid, message_id) SELECT idx * {SPAN} + n, {row}.id "
        f"FROM {SCOPES} WHERE tag IN {_tags(row)};\n"
        f"  UPDATE {SCOPES} SET n = n + 1 WHERE tag IN {_tags(row)};\n"
        f"  INSERT INTO {FTS}(rowid, content) SELECT srid, {row}.content FROM {ROWS} "
        f"WHERE message_id = {row}.id;\n"
    )


def _remove(row: str) -> str:
    """Trigger statements: take `row` (as it was indexed) out of every scope."""
    return (
        f"  INSERT INTO {FTS}({FTS}, rowid, content) SELECT 'delete', srid, {row}.content "
        f"FROM {ROWS} WHERE message_id = {row}.id;\n"
        f"  DELETE FROM {ROWS} WHERE message_id = {row}.id;\n"
    )


_SAME_SCOPE = "new.user_id IS old.user_id AND new.thread_id IS old.thread_id"
# Each change is handled by exactly one trigger, whatever order SQLite fires them in: an edit
# in place re-indexes the text under the same rowids; a move (author or thread changed, with or
# without an edit) takes the message out with its old text and adds it with its new one.
TRIGGERS = (
    "CREATE TRIGGER IF NOT EXISTS messages_scoped_ai AFTER INSERT ON messages BEGIN\n"
    + _add("new")
    + "END",
    "CREATE TRIGGER IF NOT EXISTS messages_scoped_ad AFTER DELETE ON messages BEGIN\n"
    + _remove("old")
    + "END",
    "CREATE TRIGGER IF NOT EXISTS messages_scoped_au AFTER UPDATE OF content ON messages "
    f"WHEN new.content IS NOT old.content AND {_SAME_SCOPE} BEGIN\n"
    f"  INSERT INTO {FTS}({FTS}, rowid, content) SELECT 'delete', srid, old.content "
    f"FROM {ROWS} WHERE message_id = old.id;\n"
    f"  INSERT INTO {FTS}(rowid, content) SELECT srid, new.content FROM {ROWS} "
    "WHERE message_id = new.id;\n"
    "END",
    "CREATE TRIGGER IF NOT EXISTS messages_scoped_am AFTER UPDATE OF thread_id, user_id "
    f"ON messages WHEN NOT ({_SAME_SCOPE}) BEGIN\n" + _remove("old") + _add("new") + "END",
)
TRIGGER_NAMES = tuple(f"messages_scoped_{s}" for s in ("ai", "ad", "au", "am"))


def exists(conn: Any) -> bool:
    """Whether the scope tables are there (migration 0008)."""
    return bool(
        conn.exec_driver_sql(
            f"SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '{SCOPES}'"
        ).first()
    )


def create(conn: Any) -> None:
    """The tables and the triggers (safe to call again)."""
    for sql in (*DDL, *TRIGGERS):
        conn.exec_driver_sql(sql)


def create_triggers(conn: Any) -> None:
    """The triggers again, when the tables exist (after a batch operation on messages)."""
    if exists(conn):
        for sql in TRIGGERS:
            conn.exec_driver_sql(sql)


def drop(conn: Any) -> None:
    """The triggers and the tables."""
    for name in TRIGGER_NAMES:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    for name in (FTS, ROWS, SCOPES):
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")


def clear(conn: Any) -> None:
    """Forget every scope (a full re-index promotes them again)."""
    conn.exec_driver_sql(f"INSERT INTO {FTS}({FTS}) VALUES ('delete-all')")
    conn.exec_driver_sql(f"DELETE FROM {ROWS}")
    conn.exec_driver_sql(f"DELETE FROM {SCOPES}")


def large_scopes(conn: Any, min_rows: int) -> list[tuple[str, str, str]]:
    """(tag, column, id) of the authors and threads with at least min_rows messages that are
    not scopes yet. Threads by their message count; authors by counting their index."""
    found = [
        ("t", "thread_id", tid)
        for (tid,) in conn.exec_driver_sql(
            "SELECT id FROM threads WHERE message_count >= ? ORDER BY message_count DESC",
            (min_rows,),
        )
    ]
    found += [
        ("u", "user_id", uid)
        for (uid,) in conn.exec_driver_sql(
            "SELECT user_id FROM messages GROUP BY user_id HAVING count(*) >= ? "
            "ORDER BY count(*) DESC",
            (min_rows,),
        )
    ]
    known = {tag for (tag,) in conn.exec_driver_sql(f"SELECT tag FROM {SCOPES}")}
    out = []
    for prefix, column, value in found:
        tag = f"{prefix}{value.replace('-', '').lower()}0"
        if tag not in known:
            out.append((tag, column, value))
    return out


def promote(
    connect: Callable[[], Any],
    min_rows: int,
    commit: Callable[[], Any],
    progress: Callable[[int], None] = lambda n: None,
) -> int:
    """Make every author and thread with at least min_rows messages a scope, and backfill
    every scope not ready yet. Each batch is its own transaction (`commit` ends it; `connect`
    gives the connection to go on with), so writers wait for one batch at most. Returns how
    many messages were indexed."""
    conn = connect()
    for tag, column, value in large_scopes(conn, min_rows):
        idx = conn.exec_driver_sql(f"SELECT coalesce(max(idx), 0) + 1 FROM {SCOPES}").scalar()
        # From here on the triggers index the scope's new messages.
        conn.exec_driver_sql(
            f"INSERT INTO {SCOPES}(tag, idx, col, ref) VALUES (?, ?, ?, ?)",
            (tag, idx, column, value),
        )
    commit()
    conn = connect()
    indexed = 0
    pending = conn.exec_driver_sql(f"SELECT tag, idx, col, ref FROM {SCOPES} WHERE ready = 0")
    for tag, idx, column, value in pending.all():
        if column not in ("user_id", "thread_id"):
            raise ValueError(f"unknown scope column {column!r}")
        lo, hi = idx * SPAN, (idx + 1) * SPAN
        last = ""
        while True:
            # The next batch of the scope's messages (by id, on its (column, id) index) that
            # the triggers have not indexed already.
            ids = [
                mid
                for (mid,) in conn.exec_driver_sql(
                    f"SELECT m.id FROM messages m WHERE m.{column} = ? AND m.id > ? "
                    f"AND NOT EXISTS (SELECT 1 FROM {ROWS} r WHERE r.message_id = m.id "
                    "AND r.srid >= ? AND r.srid < ?) ORDER BY m.id LIMIT ?",
                    (value, last, lo, hi, BATCH),
                )
            ]
            if not ids:
                break
            first = (
                lo + conn.exec_driver_sql(f"SELECT n FROM {SCOPES} WHERE tag = ?", (tag,)).scalar()
            )
            conn.exec_driver_sql(
                f"INSERT INTO {ROWS}(srid, message_id) SELECT ? + key, value FROM json_each(?)",
                (first, json.dumps(ids)),
            )
            conn.exec_driver_sql(f"UPDATE {SCOPES} SET n = n + ? WHERE tag = ?", (len(ids), tag))
            conn.exec_driver_sql(
                f"INSERT INTO {FTS}(rowid, content) SELECT r.srid, m.content FROM {ROWS} r "
                "JOIN messages m ON m.id = r.message_id WHERE r.srid >= ? AND r.srid < ?",
                (first, first + len(ids)),
            )
            commit()
            conn = connect()
            indexed += len(ids)
            progress(len(ids))
            last = ids[-1]
        conn.exec_driver_sql(f"UPDATE {SCOPES} SET ready = 1 WHERE tag = ?", (tag,))
        commit()
        conn = connect()
    return indexed


def ready(conn: Any, tags: list[str]) -> dict[str, int]:
    """The ready scopes among these tags: tag -> idx."""
    return {
        tag: idx
        for tag, idx in conn.exec_driver_sql(
            f"SELECT tag, idx FROM {SCOPES} WHERE ready = 1 "
            "AND tag IN (SELECT value FROM json_each(?))",
            (json.dumps(tags),),
        )
    }
