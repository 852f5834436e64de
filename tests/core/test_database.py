import os

import pytest
import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError

from crm.auth.models import User
from crm.extensions import db
from tests.conftest import ON_POSTGRES, only_on
from tests.factories import make_user


@only_on("sqlite")
def test_sqlite_runs_with_wal_foreign_keys_and_a_busy_timeout(app):
    connection = db.session.connection()
    assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15000


@only_on("sqlite")
def test_sqlite_reads_its_file_through_memory_mapping(app):
    from crm.core.database import MMAP_BYTES

    assert db.session.connection().exec_driver_sql("PRAGMA mmap_size").scalar() == MMAP_BYTES


@only_on("postgresql")
def test_postgresql_compiles_no_query_and_keeps_it_after_a_rollback(app):
    assert db.session.connection().exec_driver_sql("SHOW jit").scalar() == "off"
    db.session.rollback()
    assert db.session.connection().exec_driver_sql("SHOW jit").scalar() == "off"


def test_foreign_keys_are_enforced(app):
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(sa.text(
            "INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at, updated_at) "
            "VALUES (4242, 'x', 'h', 'p', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        db.session.flush()
    db.session.rollback()


def _connection_identity():
    connection = db.engine.connect()
    if ON_POSTGRES:
        identity = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    else:
        identity = id(connection.connection.dbapi_connection)
    made_in = connection.connection._connection_record.info["pid"]
    connection.close()
    return identity, made_in


def test_a_forked_worker_never_uses_a_connection_of_its_parent(app):
    """gunicorn --preload forks after the app may have connected: the child must reconnect."""
    parent_identity, _ = _connection_identity()
    assert db.engine.pool.checkedin() == 1  # the parent's connection waits in the pool
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child process
        try:
            identity, made_in = _connection_identity()
            ok = made_in == os.getpid() and (not ON_POSTGRES or identity != parent_identity)
            os.write(write, b"new" if ok else b"shared")
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 16)
    os.waitpid(child, 0)
    assert answer == b"new"
    # The parent's own connection still works after the child dropped its copy.
    assert _connection_identity()[0] == parent_identity


def test_a_stale_update_is_detected_by_the_version_column(app):
    user = make_user(name="Original")
    with db.engine.begin() as other:
        other.execute(sa.update(User).where(User.id == user.id).values(version=User.version + 1))
    user.name = "Overwrite"
    user.version += 1
    with pytest.raises(StaleDataError):
        db.session.flush()
    db.session.rollback()
