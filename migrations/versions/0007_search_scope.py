"""search: attachments by type, and the optional scope index (tsvector, author, thread)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 13:10:00

When the server has the `btree_gin` extension (a contrib module shipped with PostgreSQL),
CREATE EXTENSION btree_gin and one GIN index over search_tsv, user_id and thread_id, so that
from: and in: with a common word intersect inside the index; otherwise, and on SQLite,
nothing. Set CHATDESK_SEARCH_SCOPE=off to skip it. Installed later: `chatdesk reindex`.

On both databases, an index on attachments (type, message_id): has:image reads one type's
messages newest first instead of every attachment.
"""

from alembic import op

from dashboard.services.search import schema


# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_attachments_type_message_id", "attachments", ["type", "message_id"])
    schema.create_scope_index(op.get_bind())  # a no-op without btree_gin or when turned off


def downgrade():
    schema.drop_scope_index(op.get_bind())
    op.drop_index("ix_attachments_type_message_id", table_name="attachments")
