"""The search structures on each database, as DDL, and the filter that hides them from autogenerate.

PostgreSQL: a generated `search_tsv` tsvector column (english) on messages with a GIN index.
SQLite: an FTS5 external-content table `messages_fts` over messages.content and
messages.search_tags (author and thread tokens), keyed by messages.search_rowid and kept in
step by triggers on messages (see sqlite_fts.py).

None of this is on the SQLAlchemy model: the model stays the same on both databases, and
`include_object` keeps alembic's autogenerate from proposing to drop these objects.
"""

from __future__ import annotations

from typing import Any

PG_COLUMN = "search_tsv"
PG_INDEX = "ix_messages_search"
PG_CONFIG = "english"
FTS_TABLE = "messages_fts"
# is:hidden: a partial index over the few hidden messages (both databases).
HIDDEN_INDEX = "ix_messages_hidden"
HIDDEN_INDEX_DDL = (
    f"CREATE INDEX IF NOT EXISTS {HIDDEN_INDEX} ON messages (id) WHERE hidden_at IS NOT NULL"
)

PG_UPGRADE = (
    f"ALTER TABLE messages ADD COLUMN {PG_COLUMN} tsvector GENERATED ALWAYS AS "
    f"(to_tsvector('{PG_CONFIG}'::regconfig, coalesce(content, ''))) STORED",
    f"CREATE INDEX {PG_INDEX} ON messages USING gin ({PG_COLUMN})",
    HIDDEN_INDEX_DDL,
)
PG_DOWNGRADE = (
    f"DROP INDEX IF EXISTS {HIDDEN_INDEX}",
    f"DROP INDEX IF EXISTS {PG_INDEX}",
    f"ALTER TABLE messages DROP COLUMN IF EXISTS {PG_COLUMN}",
)


# The optional RUM index (PostgreSQL with the `rum` extension, e.g. Debian's postgresql-15-rum):
# the tsvector with created_at attached, so "matches, newest first" comes off the index in
# time order (`ORDER BY created_at <=| 'far future'`). GIN stays the portable default.
PG_RUM_INDEX = "ix_messages_search_rum"
PG_RUM_DDL = (
    f"CREATE INDEX IF NOT EXISTS {PG_RUM_INDEX} ON messages USING rum "
    f"({PG_COLUMN} rum_tsvector_addon_ops, created_at) "
    f"WITH (attach = 'created_at', to = '{PG_COLUMN}')"
)


def rum_wanted() -> bool:
    """False when CHATDESK_SEARCH_RUM is off (the migration and reindex then skip RUM)."""
    import os

    return os.environ.get("CHATDESK_SEARCH_RUM", "").lower() not in ("off", "0", "no", "false")


def rum_available(bind: Any) -> bool:
    """Whether this PostgreSQL server can load the rum extension (installed or installable)."""
    import sqlalchemy as sa

    return bool(
        bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'rum'")).scalar()
    )


def create_rum_index(bind: Any) -> bool:
    """CREATE EXTENSION rum and the RUM index when the server has the extension; False (and
    nothing done) otherwise, or when CHATDESK_SEARCH_RUM=off. Safe to call again (used by
    migration 0005 and `chatdesk reindex`)."""
    import sqlalchemy as sa

    if bind.dialect.name != "postgresql" or not rum_wanted() or not rum_available(bind):
        return False
    bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS rum"))
    bind.execute(sa.text(PG_RUM_DDL))
    return True


def drop_rum_index(bind: Any) -> None:
    """Drop the RUM index (the extension stays: other objects may use it)."""
    import sqlalchemy as sa

    if bind.dialect.name == "postgresql":
        bind.execute(sa.text(f"DROP INDEX IF EXISTS {PG_RUM_INDEX}"))


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic filter: leave the search structures (not on the model) out of autogenerate."""
    if type_ == "table" and name and (name == FTS_TABLE or name.startswith(FTS_TABLE + "_")):
        return False
    if type_ == "column" and name in (PG_COLUMN, "search_rowid", "search_tags"):
        return False
    return not (
        type_ == "index"
        and name in (PG_INDEX, PG_RUM_INDEX, HIDDEN_INDEX, "ix_messages_search_rowid")
    )
