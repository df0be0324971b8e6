"""The search structures on each database, as DDL, and the filter that hides them from autogenerate.

PostgreSQL: a generated `search_tsv` tsvector column (english) on messages with a GIN index,
over the content with ASCII punctuation made spaces (`pg_index_text`), so
that PostgreSQL's parser splits words where FTS5's unicode61 does (docs/search.md, "Tokens").
SQLite: an FTS5 external-content table `messages_fts` over messages.content and
messages.search_tags (author and thread tokens), keyed by messages.search_rowid and kept in
step by triggers on messages (see sqlite_fts.py).

None of this is on the SQLAlchemy model: the model stays the same on both databases, and
`include_object` keeps alembic's autogenerate from proposing to drop these objects.
"""

from __future__ import annotations

import string
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

# Tokens (docs/search.md): PostgreSQL's parser keeps `kim.jones9164`, `a@b.com`, URLs and
# `v2.1` whole (and reads `A-1042` as `a` and the number `-1042`), where FTS5's unicode61 and
# the query parser split at every character that is not a letter or a digit. So the index
# parses the content with each ASCII punctuation character made a space (non-ASCII
# punctuation is a blank to the parser already), and both databases index the same parts.
# ts_headline parses the same text with the punctuation swapped for private-use characters
# instead (blanks to the parser too, so the words and their positions are the same), which
# the snippet swaps back (`PUNCT_SWAP`); a one-character class is cheaper for every row than
# translate() with 32 characters.
PUNCT = string.punctuation
PUNCT_SWAP = "".join(chr(0xF700 + i) for i in range(len(PUNCT)))
PUNCT_CLASS = "[!-/:-@[-`{-~]"  # exactly string.punctuation (tests/search/test_tokens.py)
_PUNCT_SQL = "E'" + "".join(f"\\x{ord(c):02x}" for c in PUNCT) + "'"
_SWAP_SQL = "E'" + "".join(f"\\u{ord(c):04X}" for c in PUNCT_SWAP) + "'"


def pg_index_text(column: str) -> str:
    """SQL: the text the index parses for `column`: ASCII punctuation made spaces."""
    return f"regexp_replace({column}, '{PUNCT_CLASS}', ' ', 'g')"


def pg_headline_text(column: str) -> str:
    """SQL: the same words for ts_headline, punctuation swapped (same length, reversible)."""
    return f"translate({column}, {_PUNCT_SQL}, {_SWAP_SQL})"


# 0002's column (parsed as written), and the column since 0005 (punctuation splits words).
PG_TEXT_V1 = "coalesce(content, '')"
PG_TEXT = pg_index_text("coalesce(content, '')")


def _pg_column(text: str) -> tuple[str, ...]:
    return (
        f"ALTER TABLE messages ADD COLUMN {PG_COLUMN} tsvector GENERATED ALWAYS AS "
        f"(to_tsvector('{PG_CONFIG}'::regconfig, {text})) STORED",
        f"CREATE INDEX {PG_INDEX} ON messages USING gin ({PG_COLUMN})",
    )


_PG_DROP_COLUMN = (
    f"DROP INDEX IF EXISTS {PG_INDEX}",
    f"ALTER TABLE messages DROP COLUMN IF EXISTS {PG_COLUMN}",
)
# 0002 (frozen: it makes the first column; 0005 replaces it).
PG_UPGRADE = (*_pg_column(PG_TEXT_V1), HIDDEN_INDEX_DDL)
PG_DOWNGRADE = (f"DROP INDEX IF EXISTS {HIDDEN_INDEX}", *_PG_DROP_COLUMN)
# 0005: the column over pg_index_text() (a generated column's expression cannot be altered on
# PostgreSQL 15, so it is dropped and added: every row is rewritten and the GIN rebuilt).
PG_RETOKENIZE = (*_PG_DROP_COLUMN, *_pg_column(PG_TEXT))
PG_UNRETOKENIZE = (*_PG_DROP_COLUMN, *_pg_column(PG_TEXT_V1))


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic filter: leave the search structures (not on the model) out of autogenerate."""
    if type_ == "table" and name and (name == FTS_TABLE or name.startswith(FTS_TABLE + "_")):
        return False
    if type_ == "column" and name in (PG_COLUMN, "search_rowid", "search_tags"):
        return False
    return not (type_ == "index" and name in (PG_INDEX, HIDDEN_INDEX, "ix_messages_search_rowid"))
