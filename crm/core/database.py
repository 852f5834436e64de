"""How Lotse talks to its database: SQLite settings, no connection shared across a fork, and
sessions that end cleanly when the database has gone away."""

import logging
import os

from sqlalchemy import event, exc

from crm.extensions import db

log = logging.getLogger(__name__)


def configure_engine(engine):
    """Set SQLite's pragmas on each connection, and keep pooled connections within one process."""
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
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
