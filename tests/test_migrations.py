"""One migration history builds the models' schema on SQLite and PostgreSQL, and undoes it."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from dashboard import create_app
from dashboard.extensions import db
from dashboard.services.search.schema import include_object


@pytest.fixture
def empty_url(backend, tmp_path, request):
    """An empty database (no tables at all) on the backend."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path}/empty.db"
        return
    from dashboard.config import normalize_database_url
    from tests.conftest import PG_SERVER_URL

    server = normalize_database_url(PG_SERVER_URL)
    request.getfixturevalue("pg_database")  # fails or skips when PostgreSQL is missing
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"chatdesk_mig_{tmp_path.name[-20:].lower().replace('-', '_')}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield sa.make_url(server).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _diff(connection):
    ctx = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_object": include_object}
    )
    return compare_metadata(ctx, db.metadata)


def test_upgrade_matches_models_then_downgrades_to_base(empty_url):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            assert _diff(conn) == []
            tables = set(sa.inspect(conn).get_table_names())
            assert {
                "users",
                "threads",
                "participants",
                "messages",
                "mentions",
                "attachments",
                "reports",
                "audit_log",
            } <= tables
            # SQLAlchemy cannot reflect SQLite's expression indexes: ask the catalogues.
            catalog = (
                "SELECT name FROM sqlite_master WHERE type = 'index'"
                if conn.dialect.name == "sqlite"
                else "SELECT indexname FROM pg_indexes WHERE tablename = 'users'"
            )
            indexes = set(conn.execute(sa.text(catalog)).scalars())
            assert {"uq_users_username_lower", "uq_users_email_lower"} <= indexes
        downgrade(revision="base")
        with db.engine.connect() as conn:
            assert set(sa.inspect(conn).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
