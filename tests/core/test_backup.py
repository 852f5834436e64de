"""`flask crm backup PATH`: a consistent copy while the app runs, and it restores."""

import shutil
import sqlite3
import subprocess
import threading

import pytest
import sqlalchemy as sa

from crm.audit.models import AuditEntry
from crm.extensions import db
from tests.conftest import ON_POSTGRES
from tests.factories import make_contact, make_lead, make_organisation, make_user

NAMES = ["김민준", "Müller-Lüdenscheidt", "王伟"]


def add_records():
    user = make_user(role="manager")
    organisation = make_organisation(name="Hyundai Mobis Europe")
    for name in NAMES:
        make_contact(last_name=name, organisation=organisation)
    make_lead(actor=user, organisation=organisation, title="Batteriewerk Erfurt")


def run_backup(app, path):
    return app.test_cli_runner().invoke(args=["crm", "backup", str(path)])


def restored_rows(app, path, tmp_path):
    """Restore the backup at `path` into a new database; (contact last names, lead titles)."""
    query = ("SELECT (SELECT string_agg(last_name, '|' ORDER BY id) FROM contacts), "
             "(SELECT string_agg(title, '|') FROM leads)")
    if not ON_POSTGRES:
        copy = tmp_path / "restored.sqlite3"
        shutil.copyfile(path, copy)
        with sqlite3.connect(copy) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            names = [row[0] for row in connection.execute(
                "SELECT last_name FROM contacts ORDER BY id")]
            titles = [row[0] for row in connection.execute("SELECT title FROM leads")]
        return names, titles
    url = db.engine.url
    restore_name = f"{url.database}_restore"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {restore_name} WITH (FORCE)")
        connection.exec_driver_sql(f"CREATE DATABASE {restore_name}")
    try:
        target = url.set(database=restore_name)
        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error",
                        f"--dbname={target.set(drivername='postgresql').render_as_string(hide_password=False)}",
                        str(path)], check=True, capture_output=True)
        engine = sa.create_engine(target)
        with engine.connect() as connection:
            names, titles = connection.execute(sa.text(query)).one()
        engine.dispose()
        return names.split("|"), titles.split("|")
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {restore_name} WITH (FORCE)")
        admin.dispose()


def test_a_backup_restores_with_every_record(app, tmp_path):
    add_records()
    path = tmp_path / "lotse.backup"
    result = run_backup(app, path)
    assert result.exit_code == 0, result.output
    assert f"Backup written to {path}" in result.output
    assert not (tmp_path / "lotse.backup.part").exists()
    names, titles = restored_rows(app, path, tmp_path)
    assert names == NAMES
    assert titles == ["Batteriewerk Erfurt"]
    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "database.backup")).one()
    assert entry.record_label == str(path)


@pytest.mark.skipif(ON_POSTGRES, reason="only on SQLite: concurrent writes to the SQLite file")
def test_a_sqlite_backup_taken_while_others_write_is_consistent(app, tmp_path):
    """Writers go on during the copy; the copy passes the integrity check and holds a
    consistent state: every contact it has is whole."""
    add_records()
    file = db.engine.url.database
    stop = threading.Event()
    written = []

    def write():
        with sqlite3.connect(file, timeout=15) as connection:
            while not stop.is_set():
                connection.execute(
                    "INSERT INTO contacts (first_name, last_name, legal_basis, name_sort, "
                    "search_text, created_at, updated_at, version, owner_id) "
                    "SELECT first_name, last_name || '+', legal_basis, name_sort, search_text, "
                    "created_at, updated_at, 1, owner_id FROM contacts WHERE id = 1")
                connection.commit()
                written.append(1)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        result = run_backup(app, tmp_path / "busy.backup")
    finally:
        stop.set()
        writer.join()
    assert result.exit_code == 0, result.output
    assert written
    names, _ = restored_rows(app, tmp_path / "busy.backup", tmp_path)
    assert names[:3] == NAMES
    assert all(name == f"{NAMES[0]}+" for name in names[3:])


def test_a_backup_never_overwrites_a_file(app, tmp_path):
    path = tmp_path / "exists.backup"
    path.write_text("keep me")
    result = run_backup(app, path)
    assert result.exit_code == 1
    assert "exists already" in result.output
    assert path.read_text() == "keep me"


def test_a_backup_into_a_missing_folder_says_so(app, tmp_path):
    result = run_backup(app, tmp_path / "nowhere" / "lotse.backup")
    assert result.exit_code == 1
    assert "does not exist" in result.output
    assert not db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "database.backup")).all()
