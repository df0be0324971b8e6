"""search tokens: PostgreSQL splits words at punctuation, as SQLite's FTS5 does

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 00:45:00

PostgreSQL: `search_tsv` is re-made over `schema.PG_TEXT` (ASCII punctuation made spaces,
so `kim.jones9164`, `A-1042`, emails and URLs are indexed as their
parts; docs/search.md, "Tokens"). A generated column's expression cannot be altered on
PostgreSQL 15, so the column is dropped and added again: the table is rewritten under an
ACCESS EXCLUSIVE lock and the GIN index rebuilt (about 0.25 ms a row measured on a shared
2-core machine: some 45 minutes for 10M messages; docs/search.md, "Tokens").

SQLite: FTS5's unicode61 tokenizer already splits there; nothing changes, so no batch
operation runs and the FTS5 triggers stay.
"""
from alembic import op

from dashboard.services.search import schema

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for sql in schema.PG_RETOKENIZE:
            op.execute(sql)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for sql in schema.PG_UNRETOKENIZE:
            op.execute(sql)
