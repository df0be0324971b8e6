"""search: the optional RUM index for "matches, newest first" (PostgreSQL with rum only)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 00:40:00

When the server has the `rum` extension (pg_available_extensions: Debian's
postgresql-15-rum), CREATE EXTENSION rum and a RUM index over search_tsv with created_at
attached; otherwise, and on SQLite, nothing. GIN (ix_messages_search) stays and remains the
default path; the search backend uses the RUM index only when it exists (docs/search.md).
Set CHATDESK_SEARCH_RUM=off to skip it. Installed later: `flask --app wsgi chatdesk reindex`.
"""

from alembic import op

from dashboard.services.search import schema


# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    schema.create_rum_index(op.get_bind())  # a no-op without rum or with CHATDESK_SEARCH_RUM=off


def downgrade():
    schema.drop_rum_index(op.get_bind())
