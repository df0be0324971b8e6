"""search structures: PostgreSQL tsvector + GIN, SQLite FTS5 + triggers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 15:40:00

Later migrations that run a batch operation on `messages` on SQLite must call
`dashboard.services.search.sqlite_fts.restore(op.get_bind())` afterwards (batch mode recreates
the table, which drops the FTS triggers and may renumber rowids).
"""
from alembic import op

from dashboard.services.search import schema, sqlite_fts

# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for sql in schema.PG_UPGRADE:
            op.execute(sql)
    elif bind.dialect.name == "sqlite":
        sqlite_fts.create(bind)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for sql in schema.PG_DOWNGRADE:
            op.execute(sql)
    elif bind.dialect.name == "sqlite":
        sqlite_fts.drop(bind)
