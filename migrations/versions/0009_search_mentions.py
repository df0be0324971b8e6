"""search: who a message mentions, on the message, and one index for mentions: with words

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 17:00:00

On PostgreSQL, `messages.mentioned` (the mentioned users' ids, NULL when nobody), filled from
the mentions table and kept in step by a trigger on it, and a partial GIN index over the
words and that array. `mentions:X` with a common word then intersects inside the index instead
of visiting each of X's mentioned messages. On SQLite, nothing.
"""

from alembic import op

from dashboard.services.search import schema


# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for ddl in schema.PG_MENTIONS_UP:
            op.execute(ddl)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for ddl in schema.PG_MENTIONS_DOWN:
            op.execute(ddl)
