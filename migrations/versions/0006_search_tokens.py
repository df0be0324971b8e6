"""search tokens: PostgreSQL splits words at punctuation, as SQLite's FTS5 does

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 00:45:00

PostgreSQL: `search_tsv` is re-made over `schema.PG_TEXT` (ASCII punctuation made spaces,
so `kim.jones9164`, `A-1042`, emails and URLs are indexed as their
parts; docs/search.md, "Tokens"). A generated column's expression cannot be altered on
PostgreSQL 15, so the column is dropped and added again: the table is rewritten under an
ACCESS EXCLUSIVE lock and the GIN index rebuilt (about 0.25 ms a row measured on a shared
2-core machine: some 45 minutes for 10M messages; docs/search.md, "Tokens").

Dropping the column drops the optional RUM index over it (0005) too: when it was there, it
is built again over the new column (more time on a big table, as 0005's build).

SQLite: FTS5's unicode61 tokenizer already splits there; nothing changes, so no batch
operation runs and the FTS5 triggers stay.
"""
import sqlalchemy as sa
from alembic import op

from dashboard.services.search import schema

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    _remake(schema.PG_RETOKENIZE)


def downgrade():
    _remake(schema.PG_UNRETOKENIZE)


def _remake(statements):
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    had_rum = bind.execute(
        sa.text("SELECT to_regclass(:name) IS NOT NULL"), {"name": schema.PG_RUM_INDEX}
    ).scalar()
    for sql in statements:
        op.execute(sql)
    if had_rum:
        op.execute(schema.PG_RUM_DDL)
