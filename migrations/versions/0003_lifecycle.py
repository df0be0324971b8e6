"""data lifecycle: webhook deliveries seen, Clerk's updated_at, erasure stamps

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 20:50:00

Plain ADD COLUMN on both databases (no batch mode), so SQLite keeps the FTS5 triggers on
messages and PostgreSQL adds the nullable columns without rewriting the table.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('webhook_events',
    sa.Column('svix_id', sa.String(length=255), nullable=False),
    sa.Column('event_type', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('svix_id', name=op.f('pk_webhook_events'))
    )
    op.create_index('ix_webhook_events_received', 'webhook_events', ['received_at'], unique=False)
    op.add_column('users', sa.Column('clerk_updated_at', sa.DateTime(), nullable=True))
    op.add_column('users', sa.Column('erased_at', sa.DateTime(), nullable=True))
    op.add_column('messages', sa.Column('erased_at', sa.DateTime(), nullable=True))


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # SQLite drops a column in place (3.35+): no batch copy, so the FTS triggers stay.
        op.execute("ALTER TABLE messages DROP COLUMN erased_at")
        op.execute("ALTER TABLE users DROP COLUMN erased_at")
        op.execute("ALTER TABLE users DROP COLUMN clerk_updated_at")
    else:
        op.drop_column('messages', 'erased_at')
        op.drop_column('users', 'erased_at')
        op.drop_column('users', 'clerk_updated_at')
    op.drop_index('ix_webhook_events_received', table_name='webhook_events')
    op.drop_table('webhook_events')
