"""How Lotse talks to its database: SQLite settings, no connection shared across a fork, and
sessions that end cleanly when the database has gone away."""

import logging
import os

from sqlalchemy import event, exc

from crm.extensions import db

log = logging.getLogger(__name__)


def configure_engine(engine):
    """Set SQLite's pragmas and PostgreSQL's settings on each connection, and keep pooled
    connections within one process."""
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _postgresql_settings)
    event.listen(engine, "connect", _remember_pid)
    event.listen(engine, "checkout", _refuse_foreign_pid)


MMAP_BYTES = 1 << 30


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 15000")
    # Read the file through memory mapping (up to 1 GiB) rather than a read() call per page:
    # a count or a sum over a large table spends most of its time in those calls otherwise.
    # The mapped pages are the system's file cache, shared by every worker.
    cursor.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
    # WAL lets readers go on while one writer writes; an in-memory database has no journal file.
    cursor.execute("PRAGMA journal_mode")
    if cursor.fetchone()[0] != "memory":
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def _postgresql_settings(dbapi_connection, _record):
    # No JIT compilation: it pays off for long reports, but a page's queries over the large
    # tables look costly enough to the planner to be compiled, which takes longer (seconds)
    # than answering them. Set outside a transaction, so that it stays for the session (and
    # works behind PgBouncer, which refuses settings in the connection's start-up options).
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    dbapi_connection.autocommit = autocommit


def _remember_pid(_dbapi_connection, record):
    record.info["pid"] = os.getpid()


def _refuse_foreign_pid(_dbapi_connection, record, proxy):
    """A connection made before a fork (gunicorn's `--preload`) is never used by the child.

    SQLAlchemy's recipe: drop the inherited connection without closing it (the parent still
    uses the socket) and let the pool make a new one.
    """
    pid = os.getpid()
    if record.info.get("pid") != pid:
        record.dbapi_connection = proxy.dbapi_connection = None
        raise exc.DisconnectionError(
            f"connection was made in process {record.info.get('pid')}, not in {pid}"
        )


def end_session(_error=None):
    """End the request's database session, even when its connection is gone."""
    # A database restart may drop the connection after the request's last query: the answer
    # is made already, so the connection is thrown away and the answer still goes out.
    try:
        db.session.remove()
    except exc.DBAPIError as error:
        log.warning("database connection lost at the end of a request: %s", error)
        db.session().invalidate()
        db.session.registry.clear()
