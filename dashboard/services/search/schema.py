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


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic filter: leave the search structures (not on the model) out of autogenerate."""
    if type_ == "table" and name and (name == FTS_TABLE or name.startswith(FTS_TABLE + "_")):
        return False
    if type_ == "column" and name in (PG_COLUMN, "search_rowid", "search_tags"):
        return False
    return not (type_ == "index" and name in (PG_INDEX, HIDDEN_INDEX, "ix_messages_search_rowid"))
