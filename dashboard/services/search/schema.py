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


# 0002's column (parsed as written), and the column since 0006 (punctuation splits words).
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
# 0002 (frozen: it makes the first column; 0006 replaces it).
PG_UPGRADE = (*_pg_column(PG_TEXT_V1), HIDDEN_INDEX_DDL)
PG_DOWNGRADE = (f"DROP INDEX IF EXISTS {HIDDEN_INDEX}", *_PG_DROP_COLUMN)
# 0006: the column over pg_index_text() (a generated column's expression cannot be altered on
# PostgreSQL 15, so it is dropped and added: every row is rewritten and the GIN rebuilt).
PG_RETOKENIZE = (*_PG_DROP_COLUMN, *_pg_column(PG_TEXT))
PG_UNRETOKENIZE = (*_PG_DROP_COLUMN, *_pg_column(PG_TEXT_V1))


# The optional RUM index (PostgreSQL with the `rum` extension, e.g. Debian's postgresql-15-rum):
# the tsvector with created_at attached, so "matches, newest first" comes off the index in
# time order (`ORDER BY created_at <=| 'far future'`). GIN stays the portable default.
PG_RUM_INDEX = "ix_messages_search_rum"
PG_RUM_DDL = (
    f"CREATE INDEX IF NOT EXISTS {PG_RUM_INDEX} ON messages USING rum "
    f"({PG_COLUMN} rum_tsvector_addon_ops, created_at) "
    f"WITH (attach = 'created_at', to = '{PG_COLUMN}')"
)


def create_rum_index(bind: Any) -> bool:
    """CREATE EXTENSION rum and the RUM index when the server has the extension; False (and
    nothing done) otherwise, or when CHATDESK_SEARCH_RUM=off. Safe to call again (used by
    migration 0005 and `chatdesk reindex`)."""
    return _create_optional(bind, "rum", "CHATDESK_SEARCH_RUM", PG_RUM_DDL)


def drop_rum_index(bind: Any) -> None:
    """Drop the RUM index (the extension stays: other objects may use it)."""
    _drop_index(bind, PG_RUM_INDEX)


# The optional scope index (PostgreSQL with btree_gin, a contrib extension shipped with the
# server): the tsvector and the author and thread in one GIN index. GIN intersects the entries
# of one scan and skips through a long posting list to the next row of a short one, so "this
# author's (or thread's) messages with a common word" costs the short list, not the word's
# million entries (docs/search.md, "The scope index").
PG_SCOPE_INDEX = "ix_messages_search_scope"
PG_SCOPE_DDL = (
    f"CREATE INDEX IF NOT EXISTS {PG_SCOPE_INDEX} ON messages "
    f"USING gin ({PG_COLUMN}, user_id, thread_id)"
)


def create_scope_index(bind: Any) -> bool:
    """CREATE EXTENSION btree_gin and the scope index when the server has the extension;
    False (and nothing done) otherwise, or when CHATDESK_SEARCH_SCOPE=off. Safe to call again
    (migration 0007 and `chatdesk reindex`)."""
    return _create_optional(bind, "btree_gin", "CHATDESK_SEARCH_SCOPE", PG_SCOPE_DDL)


def drop_scope_index(bind: Any) -> None:
    """Drop the scope index (btree_gin stays: other objects may use it)."""
    _drop_index(bind, PG_SCOPE_INDEX)


# PostgreSQL: who each message mentions, on the message itself (`mentioned`, NULL when
# nobody), kept in step with the mentions table by a trigger, and one GIN index over the words
# and that array for the messages that mention someone. "mentions:X with a common word" then
# intersects inside the index instead of visiting every message that mentions X (10M: a
# much-mentioned user's 7,000 messages, 35 to 70 ms; docs/search.md, "Filters that do not
# scale with the table"). Both opclasses are built in: no extension needed.
PG_MENTIONED = "mentioned"
PG_MENTIONS_INDEX = "ix_messages_search_mentions"
PG_MENTIONS_TRIGGER = "tr_mentions_mentioned"
PG_MENTIONS_FILL = (
    "UPDATE messages m SET mentioned = s.ids FROM (SELECT message_id, "
    "array_agg(user_id::text ORDER BY user_id) AS ids FROM mentions GROUP BY message_id) s "
    "WHERE m.id = s.message_id AND m.mentioned IS DISTINCT FROM s.ids"
)
PG_MENTIONS_UP = (
    f"ALTER TABLE messages ADD COLUMN {PG_MENTIONED} text[]",
    PG_MENTIONS_FILL,
    """CREATE FUNCTION chatdesk_sync_mentioned() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    UPDATE messages SET mentioned = NULLIF(array_remove(mentioned, OLD.user_id::text), '{}')
    WHERE id = OLD.message_id AND mentioned @> ARRAY[OLD.user_id::text];
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    UPDATE messages SET mentioned = array_append(coalesce(mentioned, '{}'), NEW.user_id::text)
    WHERE id = NEW.message_id AND NOT coalesce(mentioned @> ARRAY[NEW.user_id::text], false);
  END IF;
  RETURN NULL;
END $$""",
    f"CREATE TRIGGER {PG_MENTIONS_TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON mentions "
    "FOR EACH ROW EXECUTE FUNCTION chatdesk_sync_mentioned()",
    f"CREATE INDEX IF NOT EXISTS {PG_MENTIONS_INDEX} ON messages "
    f"USING gin ({PG_COLUMN}, {PG_MENTIONED}) WHERE {PG_MENTIONED} IS NOT NULL",
    # The planner sizes `mentioned @> …` from the column's statistics; without them it guesses
    # 0.5% of the table (and the UPDATE touched too few rows for autovacuum to analyze soon).
    "ANALYZE messages",
)
PG_MENTIONS_DOWN = (
    f"DROP TRIGGER IF EXISTS {PG_MENTIONS_TRIGGER} ON mentions",
    "DROP FUNCTION IF EXISTS chatdesk_sync_mentioned()",
    f"DROP INDEX IF EXISTS {PG_MENTIONS_INDEX}",
    f"ALTER TABLE messages DROP COLUMN IF EXISTS {PG_MENTIONED}",
)


# (index, what `chatdesk reindex` calls it, its create function): made when missing.
OPTIONAL_INDEXES = (
    (PG_RUM_INDEX, "RUM", create_rum_index),
    (PG_SCOPE_INDEX, "scope", create_scope_index),
)


def _create_optional(bind: Any, extension: str, env_var: str, ddl: str) -> bool:
    """CREATE EXTENSION and an index needing it, on PostgreSQL when the server has the
    extension (installed or installable) and `env_var` is not off; else False, nothing done."""
    import os

    import sqlalchemy as sa

    if bind.dialect.name != "postgresql":
        return False
    if os.environ.get(env_var, "").lower() in ("off", "0", "no", "false"):
        return False
    available = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = :e"), {"e": extension}
    ).scalar()
    if not available:
        return False
    bind.execute(sa.text(f'CREATE EXTENSION IF NOT EXISTS "{extension}"'))
    bind.execute(sa.text(ddl))
    return True


def _drop_index(bind: Any, name: str) -> None:
    import sqlalchemy as sa

    if bind.dialect.name == "postgresql":
        bind.execute(sa.text(f"DROP INDEX IF EXISTS {name}"))


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic filter: leave the search structures (not on the model) out of autogenerate."""
    if type_ == "table" and name and (name == FTS_TABLE or name.startswith(FTS_TABLE + "_")):
        return False
    if type_ == "table" and name and name.startswith("search_scope"):
        return False  # sqlite_scopes.py: the tables and the FTS5 table's shadow tables
    if type_ == "index" and name and name.startswith("ix_search_scoped"):
        return False
    if type_ == "column" and name in (PG_COLUMN, PG_MENTIONED, "search_rowid", "search_tags"):
        return False
    return not (
        type_ == "index"
        and name
        in (
            PG_INDEX,
            PG_RUM_INDEX,
            PG_SCOPE_INDEX,
            PG_MENTIONS_INDEX,
            HIDDEN_INDEX,
            "ix_messages_search_rowid",
        )
    )
