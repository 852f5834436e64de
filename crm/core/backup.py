"""Consistent copies of the database while the application runs.

SQLite: the online backup API copies the database page by page from one consistent state
(other connections may go on reading and writing). PostgreSQL: `pg_dump` in its custom format,
which `pg_restore` reads. Either way the copy is written beside the target under a temporary
name and renamed into place once complete, so a failed backup never leaves a half file.
"""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

# Pages copied per step of SQLite's backup: writers wait at most for one step.
SQLITE_PAGES_PER_STEP = 1024


class BackupError(Exception):
    """The backup could not be made; the message says why."""


def backup(engine, path):
    """Copy the database behind `engine` to `path` (which must not exist); returns its size."""
    target = Path(path)
    if target.exists():
        raise BackupError(f"{target} exists already; choose a new file name.")
    if not target.parent.is_dir():
        raise BackupError(f"The folder {target.parent} does not exist.")
    partial = target.with_name(target.name + ".part")
    try:
        if engine.dialect.name == "sqlite":
            _sqlite(engine, partial)
        elif engine.dialect.name == "postgresql":
            _postgres(engine.url, partial)
        else:
            raise BackupError(f"No backup for {engine.dialect.name} databases.")
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target.stat().st_size


def _sqlite(engine, partial):
    if engine.url.database in (None, "", ":memory:"):
        raise BackupError("An in-memory database cannot be backed up.")
    source = engine.raw_connection()
    try:
        copy = sqlite3.connect(partial)
        try:
            source.driver_connection.backup(copy, pages=SQLITE_PAGES_PER_STEP)
            # The copy is a plain single file: no write-ahead log beside it to lose.
            copy.execute("PRAGMA journal_mode=DELETE")
            (verdict,) = copy.execute("PRAGMA integrity_check").fetchone()
        finally:
            copy.close()
    finally:
        source.close()
    if verdict != "ok":
        raise BackupError(f"The copy failed SQLite's integrity check: {verdict}")


def _postgres(url, partial):
    program = shutil.which("pg_dump")
    if program is None:
        raise BackupError("pg_dump is not installed (Debian: apt-get install postgresql-client).")
    # The password goes in the environment, never on the command line (where `ps` shows it).
    environment = {**os.environ}
    if url.password:
        environment["PGPASSWORD"] = url.password
    address = url.set(drivername="postgresql", password=None).render_as_string(
        hide_password=False)
    result = subprocess.run(
        [program, "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}",
         f"--dbname={address}"],
        env=environment, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
