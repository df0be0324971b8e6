"""moderation tools: watched words, and reports filed by the system

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 00:40:00

`reports.reporter_id` becomes nullable (NULL: the system filed it, as a watched word's flag)
and reports gain a `metadata` JSON column. On SQLite that is a batch copy of `reports` only;
the FTS5 triggers live on `messages`, which is not touched, so they stay. The batch copy is
given the table's CHECK constraints explicitly so none is lost.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_REPORT_CHECKS = (
    ("ck_reports_state", "state IN ('open', 'dismissed', 'actioned')"),
    ("ck_reports_reason_length", "length(reason) BETWEEN 1 AND 1000"),
)


def _reports_table(nullable_reporter: bool, with_meta: bool) -> sa.Table:
    """The reports table as it stands before the batch copy (for SQLite's recreate)."""
    cols = [
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("reporter_id", sa.String(length=64), nullable=nullable_reporter),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("state", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("resolver_id", sa.String(length=64), nullable=True),
        sa.Column("resolution_note", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
    ]
    if with_meta:
        cols.append(sa.Column("metadata", sa.JSON(), server_default="{}", nullable=False))
    return sa.Table(
        "reports",
        sa.MetaData(),
        *cols,
        *[sa.CheckConstraint(sql, name=name) for name, sql in _REPORT_CHECKS],
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name="fk_reports_message_id_messages",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["reporter_id"], ["users.id"], name="fk_reports_reporter_id_users"),
        sa.ForeignKeyConstraint(["resolver_id"], ["users.id"], name="fk_reports_resolver_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_reports"),
        sa.Index("ix_reports_message_id", "message_id"),
        sa.Index("ix_reports_state_created", "state", "created_at", "id"),
    )


def upgrade():
    op.create_table(
        "watched_words",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("pattern", sa.String(length=200), nullable=False),
        sa.Column("normalized", sa.String(length=800), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("created_by_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("action IN ('flag', 'block')", name=op.f("ck_watched_words_action")),
        sa.CheckConstraint(
            "kind IN ('word', 'phrase', 'regex')", name=op.f("ck_watched_words_kind")
        ),
        sa.CheckConstraint(
            "length(pattern) BETWEEN 1 AND 200", name=op.f("ck_watched_words_pattern_length")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_watched_words_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watched_words")),
    )
    op.create_index("ix_watched_words_created", "watched_words", ["created_at", "id"], unique=False)
    op.create_index(
        "uq_watched_words_kind_normalized", "watched_words", ["kind", "normalized"], unique=True
    )
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(
            "reports", copy_from=_reports_table(False, False), recreate="always"
        ) as batch:
            batch.alter_column("reporter_id", existing_type=sa.String(length=64), nullable=True)
            batch.add_column(sa.Column("metadata", sa.JSON(), server_default="{}", nullable=False))
    else:
        op.alter_column("reports", "reporter_id", existing_type=sa.String(length=64), nullable=True)
        op.add_column(
            "reports", sa.Column("metadata", sa.JSON(), server_default="{}", nullable=False)
        )


def downgrade():
    # System reports have no reporter to keep under NOT NULL: they go with the feature.
    op.execute("DELETE FROM reports WHERE reporter_id IS NULL")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(
            "reports", copy_from=_reports_table(True, True), recreate="always"
        ) as batch:
            batch.drop_column("metadata")
            batch.alter_column("reporter_id", existing_type=sa.String(length=64), nullable=False)
    else:
        op.drop_column("reports", "metadata")
        op.alter_column(
            "reports", "reporter_id", existing_type=sa.String(length=64), nullable=False
        )
    op.drop_index("uq_watched_words_kind_normalized", table_name="watched_words")
    op.drop_index("ix_watched_words_created", table_name="watched_words")
    op.drop_table("watched_words")
