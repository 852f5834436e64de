"""Fixtures for the whole suite: an app with a fresh database per test, clients, query counts.

SQLite (the default): the migrations build a template database once per run, and every test
gets its own copy of that file. PostgreSQL (`TEST_DATABASE_URL=postgresql://...`): the
migrations run once into the given database, and every test starts from empty tables.
Either way the schema the tests see is the one the migrations make.
"""

import contextvars
import os
import shutil
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_migrate import upgrade

from config import engine_options, normalise_database_url
from crm import create_app
from crm.extensions import db
from tests.factories import DEFAULT_PASSWORD, make_user

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
ON_POSTGRES = bool(TEST_DATABASE_URL)


def only_on(database, why=None):
    """Skip marker for a test that makes sense on one database only (the reason says which,
    and `why`)."""
    if database == "sqlite":
        why = why or "checks SQLite's own settings"
        return pytest.mark.skipif(ON_POSTGRES, reason=f"only on SQLite: {why}")
    why = why or "set TEST_DATABASE_URL"
    return pytest.mark.skipif(not ON_POSTGRES, reason=f"only on PostgreSQL: {why}")


def base_config(database_url, **overrides):
    """The settings every test app starts from."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "PASSWORD_HASH_PROFILE": "CHEAPEST",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "REPORTS_CACHE_SECONDS": 0,
        "SERVER_NAME": None,
        "WEBHOOK_ALLOW_LOCAL_NETWORK": True,  # the tests' receivers listen on 127.0.0.1
        **overrides,
    }


class IsolatedClient(FlaskClient):
    """A test client whose every request runs as in production: in its own application
    context, with its own `g` and database session, even while the test holds a context open.

    (Flask reuses an application context that is already pushed, so without this, `g` and
    the logged-in user would leak from one request, and one client, into the next.)
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


def make_app(tmp_path, database_url, **overrides):
    config = base_config(database_url, **overrides)
    config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(database_url))
    app = create_app(config, instance_path=str(tmp_path / "instance"))
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """The migrated, empty database the tests copy (SQLite) or reuse (PostgreSQL)."""
    if ON_POSTGRES:
        url = normalise_database_url(TEST_DATABASE_URL)
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()
    else:
        path = tmp_path_factory.mktemp("template") / "template.sqlite3"
        url = f"sqlite:///{path}"
    app = make_app(tmp_path_factory.mktemp("migrate"), url)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


def _fresh_database_url(template_url, tmp_path):
    if ON_POSTGRES:
        return template_url
    path = tmp_path / "test.sqlite3"
    shutil.copyfile(template_url.removeprefix("sqlite:///"), path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def _truncating_engine(database_template):
    engine = sa.create_engine(database_template) if ON_POSTGRES else None
    yield engine
    if engine is not None:
        engine.dispose()


def _empty_all_tables(engine):
    tables = ", ".join(t.name for t in db.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture
def app_factory(database_template, _truncating_engine, tmp_path):
    """Make an app on this test's fresh database, with settings changed for the test."""
    apps = []
    url = _fresh_database_url(database_template, tmp_path)
    if ON_POSTGRES:
        _empty_all_tables(_truncating_engine)

    def factory(**overrides):
        app = make_app(tmp_path, url, **overrides)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(app_factory):
    """The app, with an application context pushed for the test's own database work."""
    app = app_factory()
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


def log_in(client, user, password=DEFAULT_PASSWORD):
    """Log `client` in as `user` through the login form; fails the test if that does not work."""
    response = client.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


@pytest.fixture
def login(app):
    """`login(role)`: a new user with that role and a test client logged in as them."""

    def login_as(role="member", **overrides):
        user = make_user(role=role, **overrides)
        return user, log_in(app.test_client(), user)

    return login_as


@pytest.fixture
def count_queries(app):
    """`with count_queries() as statements:` records the SQL statements run inside the block."""

    @contextmanager
    def counter():
        statements = []

        def record(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", record)

    return counter
