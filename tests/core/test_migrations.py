"""The migrations are the only way the schema is made: they must build exactly the models."""

import re
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from config import normalise_database_url
from crm.core.fulltext import compared_with_models
from crm.extensions import db
from tests.conftest import ON_POSTGRES, TEST_DATABASE_URL, make_app

VERSIONS = Path(__file__).resolve().parents[2] / "migrations" / "versions"


@pytest.fixture
def empty_database(tmp_path):
    """A URL of a database with nothing in it: a new SQLite file, or a new PostgreSQL database."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path}/empty.sqlite3"
        return
    server = sa.create_engine(normalise_database_url(TEST_DATABASE_URL), isolation_level="AUTOCOMMIT")
    name = f"lotse_migrations_{uuid.uuid4().hex[:10]}"
    with server.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = server.url.set(database=name).render_as_string(hide_password=False)
    yield url
    with server.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    server.dispose()


def differences(app):
    """What differs between the migrated database and the models (Alembic's comparison, plus
    the CHECK constraints, which Alembic does not compare)."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                           "include_object": compared_with_models})
        found = compare_metadata(context, db.metadata)
        inspector = sa.inspect(connection)
        for table in db.metadata.sorted_tables:
            expected = {c.name for c in table.constraints if isinstance(c, sa.CheckConstraint)}
            actual = {c["name"] for c in inspector.get_check_constraints(table.name)}
            if expected != actual:
                found.append(("check constraints", table.name, sorted(expected), sorted(actual)))
        return found


def test_migrations_on_an_empty_database_build_exactly_the_models(tmp_path, empty_database):
    app = make_app(tmp_path, empty_database)
    with app.app_context():
        upgrade()
        assert differences(app) == []
        db.engine.dispose()


def test_migrations_go_down_to_nothing_and_up_again(tmp_path, empty_database):
    app = make_app(tmp_path, empty_database)
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert differences(app) == []
        db.engine.dispose()


def test_migration_files_are_date_prefixed():
    names = [p.name for p in VERSIONS.glob("*.py")]
    assert names
    for name in names:
        assert re.match(r"^\d{4}_\d{2}_\d{2}_\d{4}-[0-9a-f]+_\w+\.py$", name), name
