"""search: the SQLite scope index, (word, author or thread) for large authors and threads

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 08:00:00

On SQLite, the tables and triggers of dashboard/services/search/sqlite_scopes.py. They start
empty: `flask --app wsgi chatdesk search-scopes` (or `chatdesk reindex`) indexes the authors
and threads that are already large; until then searches take the usual path. On PostgreSQL,
nothing (its scope index is 0007's).
"""

from alembic import op

from dashboard.services.search import sqlite_scopes


# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        sqlite_scopes.create(bind)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        sqlite_scopes.drop(bind)
