"""The seed's row writers: rows buffered per table, then written in bulk by one writer per dialect.

`Sink` buffers the rows seed.py builds and hands them, table by table in foreign-key order, to
a writer: executemany on SQLite, COPY from a second thread on PostgreSQL. A big load runs inside
the writer's `bulk_load()`, which drops what per-row upkeep costs (SQLite: the FTS triggers and
the secondary indexes of messages; PostgreSQL: the indexes, keys and foreign keys of
BULK_TABLES) and rebuilds it once at the end. Imported by seed.py only.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import csv
import io
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from .search import schema, sqlite_fts, sqlite_scopes

# The seed's logger, not this module's: bench/common.py turns it up for the rebuild timings.
log = logging.getLogger("dashboard.services.seed")

Progress = Callable[[str, int], None]  # (table, rows just written)

# Each table's columns, in the order the seed builds its rows.
USER_COLS = (
    "id",
    "username",
    "email",
    "first_name",
    "last_name",
    "image_url",
    "password_hash",
    "role",
    "is_active",
    "session_version",
    "created_at",
    "updated_at",
    "last_login_at",
    "last_seen_at",
)
THREAD_COLS = (
    "id",
    "name",
    "title",
    "creator_id",
    "created_at",
    "updated_at",
    "last_message_at",
    "last_activity_at",
    "message_count",
    "is_archived",
    "archived_at",
    "metadata",
)
MESSAGE_COLS = (
    "id",
    "client_id",
    "content",
    "thread_id",
    "user_id",
    "parent_id",
    "created_at",
    "updated_at",
    "edited_at",
    "deleted_at",
    "hidden_at",
    "hidden_by_id",
    "hidden_reason",
    "metadata",
)
MENTION_COLS = ("message_id", "user_id")
ATTACHMENT_COLS = (
    "id",
    "message_id",
    "uploader_id",
    "type",
    "url",
    "mime_type",
    "size",
    "original_name",
    "storage_name",
    "created_at",
    "metadata",
)
PARTICIPANT_COLS = ("thread_id", "user_id", "joined_at", "delivered_through", "read_through")
# Written in this order (foreign keys point backwards).
TABLES = {
    "users": USER_COLS,
    "threads": THREAD_COLS,
    "messages": MESSAGE_COLS,
    "mentions": MENTION_COLS,
    "attachments": ATTACHMENT_COLS,
    "participants": PARTICIPANT_COLS,
}
# The tables a big load rebuilds the indexes and constraints of.
BULK_TABLES = ("threads", "participants", "messages", "mentions", "attachments")


class Sink:
    """Rows buffered per table and written in foreign-key order, by one writer per dialect."""

    def __init__(
        self, dialect: str, *, bulk: bool, progress: Progress, writer: _Writer | None = None
    ):
        self.dialect = dialect
        self.writer: _Writer = writer or (
            PostgresWriter() if dialect == "postgresql" else _SQLiteWriter()
        )
        self.bulk = bulk
        self.chunk = self.writer.chunk
        self.progress = progress
        self.rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in TABLES}
        self.written = dict.fromkeys(TABLES, 0)

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        self.rows[table].append(row)

    def pending(self, table: str) -> int:
        return len(self.rows[table])

    def flush(self) -> None:
        for table, cols in TABLES.items():
            rows = self.rows[table]
            if not rows:
                continue
            self.rows[table] = []
            for i in range(0, len(rows), self.chunk):
                part = rows[i : i + self.chunk]
                self.writer.write(table, cols, part)
                self.written[table] += len(part)
                self.progress(table, len(part))

    def bulk_load(self) -> Any:
        """Around the threads and messages: the dialect's big-load mode, or nothing."""
        return self.writer.bulk_load() if self.bulk else self.writer.transaction()

    def analyze(self) -> None:
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


class _Writer:
    """Bulk row writer for one dialect."""

    chunk = 20_000

    def finish(self) -> None:
        return None

    def write(self, table: str, cols: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def bulk_load(self) -> contextlib.AbstractContextManager[None]:
        raise NotImplementedError

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        yield
        db.session.commit()


def _raw() -> Any:
    raw = db.session.connection().connection.driver_connection
    assert raw is not None  # a live pooled connection always has its driver connection
    return raw


class _SQLiteWriter(_Writer):
    """executemany on the driver connection; a big load writes the FTS keys and tags itself."""

    def __init__(self) -> None:
        self.fts_columns = False

    def write(self, table: str, cols: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if table == "messages" and self.fts_columns:
            cols = (*cols, sqlite_fts.ROWID_COLUMN, sqlite_fts.TAGS_COLUMN)
            tag = sqlite_fts.tag
            # A row's key (sqlite_fts.key: the id's 48-bit time and 12-bit sequence, times 8)
            # with tie-breaker 0; _DEDUPE_KEYS settles the rare equal keys afterwards.
            rows = [
                (*r, int(r[0][:8] + r[0][9:13] + r[0][15:18], 16) << 3, _tags(r[4], r[3], tag))
                for r in rows
            ]
        sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"  # noqa: S608
        _raw().executemany(sql, rows)

    @contextlib.contextmanager
    def bulk_load(self) -> Iterator[None]:
        conn = db.session.connection()
        saved = [
            sql
            for (sql,) in conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages' "
                "AND sql IS NOT NULL"
            )
        ]
        names = [
            name
            for (name,) in conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages' "
                "AND sql IS NOT NULL"
            )
        ]
        for name in (*sqlite_fts.TRIGGER_NAMES, *sqlite_scopes.TRIGGER_NAMES):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        for name in names:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
        conn.exec_driver_sql("PRAGMA cache_size = -1000000")  # up to 1 GB of page cache
        self.fts_columns = True
        try:
            yield
        finally:
            self.fts_columns = False
            db.session.commit()
            conn = db.session.connection()
            # The keys made unique, the indexes built, then the triggers and the FTS index
            # rebuilt from messages (sqlite_fts.restore).
            for sql in (_DEDUPE_KEYS, *saved, None):
                started = time.perf_counter()
                if sql is None:
                    sqlite_fts.restore(conn)
                else:
                    conn.exec_driver_sql(sql)
                label = sql or "the FTS triggers, and the FTS index rebuilt"
                log.info("seed: %.1f s for %s", time.perf_counter() - started, label[:90])
            if sqlite_scopes.exists(conn):
                # The scope index missed the loaded rows: built again for every large scope.
                started = time.perf_counter()
                sqlite_scopes.clear(conn)
                n = sqlite_scopes.promote(
                    lambda: conn, current_app.config["SEARCH_SCOPE_MIN_MESSAGES"], lambda: None
                )
                log.info(
                    "seed: %.1f s for the scope index (%d rows)", time.perf_counter() - started, n
                )
            conn.exec_driver_sql("PRAGMA cache_size = -2000")
            db.session.commit()


def _tags(user_id: str, thread_id: str, tag: Callable[[str, str], str]) -> str:
    return f"{tag('u', user_id)} {tag('t', thread_id)}"


# Rows whose search keys are equal (same millisecond and sequence bits): renumber their whole key
# group by id, as sqlite_fts's backfill does (tie-breakers 0 … 7).
_DEDUPE_KEYS = (
    "UPDATE messages SET search_rowid = k.v FROM (SELECT rowid AS r, (search_rowid / 8) * 8 "
    "+ row_number() OVER (PARTITION BY search_rowid / 8 ORDER BY id) - 1 AS v FROM messages "
    "WHERE search_rowid / 8 IN (SELECT search_rowid / 8 FROM messages GROUP BY search_rowid "
    "HAVING count(*) > 1)) AS k WHERE messages.rowid = k.r AND messages.search_rowid != k.v"
)


class PostgresWriter(_Writer):
    """COPY … FROM STDIN (CSV) from a second thread, so the next chunk is built meanwhile."""

    chunk = 50_000

    def __init__(self, raw: Any = None) -> None:
        self.raw = raw  # a psycopg2 connection of its own (a seed worker), else the session's
        self.jobs: queue.Queue[tuple[str, str] | None] = queue.Queue(maxsize=2)
        self.worker: threading.Thread | None = None
        self.error: BaseException | None = None

    def write(self, table: str, cols: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        buf = io.StringIO()
        csv.writer(buf).writerows(rows)  # None is an empty unquoted field: NULL in COPY's CSV
        sql = f"COPY {table} ({', '.join(cols)}) FROM STDIN WITH (FORMAT csv)"
        if self.worker is None:
            raw = self.raw if self.raw is not None else _raw()
            self.worker = threading.Thread(target=self._copy, args=(raw,), daemon=True)
            self.worker.start()
        self.jobs.put((sql, buf.getvalue()))
        if self.error is not None:
            self._join()

    def _copy(self, raw: Any) -> None:
        try:
            while (job := self.jobs.get()) is not None:
                with raw.cursor() as cur:
                    cur.copy_expert(job[0], io.StringIO(job[1]), size=1 << 20)
        except BaseException as exc:  # handed to the seeding thread by _join()
            self.error = exc
            while self.jobs.get() is not None:  # unblock the producer until it stops
                pass

    def finish(self) -> None:
        """Wait for every queued COPY; raise what failed."""
        self._join()

    def _join(self) -> None:
        """Wait for every queued COPY; raise what failed."""
        if self.worker is not None:
            self.jobs.put(None)
            self.worker.join()
            self.worker = None
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        try:
            yield
        finally:
            self._join()
        db.session.commit()

    @contextlib.contextmanager
    def bulk_load(self) -> Iterator[None]:
        """Drop the indexes and constraints of BULK_TABLES for the load; re-create them after."""
        self._join()  # the users (written before) are in; DDL needs the connection
        db.session.commit()
        # messages.mentioned (migration 0009): its trigger would update a message per COPYed
        # mention; it is filled in one join after the load instead.
        mentioned = _pg_set_trigger(schema.PG_MENTIONS_TRIGGER, enabled=False)
        dropped = _pg_drop_for_load(BULK_TABLES)
        try:
            with self.transaction():
                yield
            if mentioned:
                started = time.perf_counter()
                db.session.execute(sa.text(schema.PG_MENTIONS_FILL))
                db.session.commit()
                log.info("seed: %.1f s for messages.mentioned", time.perf_counter() - started)
        finally:
            db.session.rollback()
            db.session.close()
            if mentioned:
                _pg_set_trigger(schema.PG_MENTIONS_TRIGGER, enabled=True)
            _pg_restore(db.engine, dropped)


def _pg_set_trigger(name: str, enabled: bool) -> bool:
    """Enable or disable the trigger `name` on mentions; False when there is none."""
    exists = db.session.execute(
        sa.text("SELECT 1 FROM pg_trigger WHERE tgname = :n AND NOT tgisinternal"), {"n": name}
    ).scalar()
    if exists:
        action = "ENABLE" if enabled else "DISABLE"
        db.session.execute(sa.text(f'ALTER TABLE mentions {action} TRIGGER "{name}"'))
    db.session.commit()
    return bool(exists)


def _pg_restore(engine: sa.Engine, dropped: tuple[list[str], list[str], list[str]]) -> None:
    """Re-create what _pg_drop_for_load dropped: keys, then indexes, then foreign keys.

    Keys and indexes are sorted builds, run a few at a time on their own connections (the
    server works on several while one waits for a CPU); the GIN index, the longest, goes first.
    Foreign keys follow one by one, as each locks both of its tables.
    """
    keys, indexes, fks = dropped

    def run(ddl: str) -> None:
        started = time.perf_counter()
        with engine.begin() as conn:
            # Sorted index builds and the foreign keys' validating joins, with room to work in.
            conn.execute(sa.text("SET LOCAL maintenance_work_mem = '1GB'"))
            conn.execute(sa.text("SET LOCAL work_mem = '256MB'"))
            conn.execute(sa.text(ddl))
        log.info("seed: %.1f s for %s", time.perf_counter() - started, ddl[:90])

    indexes = sorted(indexes, key=lambda ddl: " USING gin " not in ddl)
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        for batch in (keys, indexes):
            for future in [pool.submit(run, ddl) for ddl in batch]:
                future.result()
    for ddl in fks:
        run(ddl)


def _pg_drop_for_load(tables: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
    """Drop the tables' foreign keys (both ways), constraints and indexes; the DDL to restore."""
    names = list(tables)
    fks = db.session.execute(
        sa.text(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
            "FROM pg_constraint c WHERE c.contype = 'f' AND (c.conrelid::regclass::text = "
            "ANY(:t) OR c.confrelid::regclass::text = ANY(:t)) ORDER BY 1, 2"
        ),
        {"t": names},
    ).all()
    keys = db.session.execute(
        sa.text(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
            "FROM pg_constraint c WHERE c.contype IN ('p', 'u') "
            "AND c.conrelid::regclass::text = ANY(:t) ORDER BY 1, c.contype, 2"
        ),
        {"t": names},
    ).all()
    indexes = db.session.execute(
        sa.text(
            "SELECT i.tablename, i.indexname, i.indexdef FROM pg_indexes i "
            "WHERE i.schemaname = current_schema() AND i.tablename = ANY(:t) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname) "
            "ORDER BY 1, 2"
        ),
        {"t": names},
    ).all()
    for table, name, _ in fks:
        db.session.execute(sa.text(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"'))
    for table, name, _ in keys:
        db.session.execute(sa.text(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"'))
    for _, name, _ in indexes:
        db.session.execute(sa.text(f'DROP INDEX "{name}"'))
    db.session.commit()
    return (
        [f'ALTER TABLE "{t}" ADD CONSTRAINT "{n}" {d}' for t, n, d in keys],
        [d for _, _, d in indexes],
        [f'ALTER TABLE "{t}" ADD CONSTRAINT "{n}" {d}' for t, n, d in fks],
    )
