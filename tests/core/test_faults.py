"""Faults in production: workers killed mid-write, the database server restarted under load,
a full disk. Real gunicorn, real databases; what was answered as saved must be saved."""

import errno
import http.client
import json
import os
import random
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from crm.audit.models import AuditEntry
from crm.contacts.models import Contact
from crm.core.database import end_session
from crm.extensions import db
from tests.conftest import log_in, make_app, only_on
from tests.factories import DEFAULT_PASSWORD, make_token, make_user
from tests.servers import private_postgresql, running_gunicorn, signed_in

UNREACHED = "1000000 per minute"  # an API rate limit the load never reaches


class Load:
    """Clients that each repeat one kind of request, on a new connection, until stopped, and
    remember every answer. A request whose connection broke has no answer ("dropped")."""

    def __init__(self, base, *, writers=4, token=None, readers=()):
        self.base, self.token = base, token
        self.saved = {}  # last name -> id, for every contact answered 201
        self.statuses = Counter()
        self.error_codes = Counter()  # the API's error code of every 4xx and 5xx
        self.pages = Counter()  # (status, whether the page says what went wrong) of readers
        self.timeline = []  # (when the request was sent, status) of every answer
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._write, args=(n,), daemon=True)
                         for n in range(writers)]
        self._threads += [threading.Thread(target=self._read, args=(opener,), daemon=True)
                          for opener in readers]

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def successes(self):
        with self._lock:
            return self.statuses[201]

    def _answer(self, sent, status):
        self.statuses[status] += 1
        self.timeline.append((sent, status))

    def _write(self, client):
        number = 0
        while not self._stop.is_set():
            number += 1
            name = f"Schreiber {client}-{number}"
            request = urllib.request.Request(
                self.base + "/api/v1/contacts", method="POST",
                data=json.dumps({"first_name": "Jörg", "last_name": name}).encode(),
                headers={"Authorization": f"Bearer {self.token}",
                         "Content-Type": "application/json"})
            sent = time.monotonic()
            status, body = fetch(urllib.request.urlopen, request)
            answer = json.loads(body) if body.startswith(b"{") else {}
            with self._lock:
                self._answer(sent, status)
                if status == 201 and answer.get("last_name") == name:
                    self.saved[name] = answer["id"]
                elif status != "dropped":
                    self.error_codes[answer.get("error", {}).get("code", "not JSON")] += 1

    def _read(self, opener):
        while not self._stop.is_set():
            sent = time.monotonic()
            status, body = fetch(opener.open, self.base + "/contacts")
            explained = (b"Kontakte" if status == 200 else UNAVAILABLE) in body
            with self._lock:
                self._answer(sent, status)
                self.pages[status, explained] += 1


UNAVAILABLE = "Vorübergehend nicht verfügbar".encode()


def fetch(open_, request):
    """The status and body of the answer, or ("dropped", b"") for a broken connection."""
    try:
        with open_(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError):
        return "dropped", b""


def assert_all_saved(load):
    """Every contact answered with 201 is in the database with its name, and every contact
    there came with its audit entry (no write was half done)."""
    end_session()  # the test's own connection may have been dropped by a restart
    stored = dict(db.session.execute(sa.select(Contact.last_name, Contact.id)).all())
    missing = {name for name, id_ in load.saved.items() if stored.get(name) != id_}
    assert not missing, f"answered 201 but not in the database: {sorted(missing)[:5]}"
    audited = set(db.session.scalars(
        sa.select(AuditEntry.record_id).where(AuditEntry.record_type == "contacts",
                                              AuditEntry.action == "contact.create")))
    assert audited == set(stored.values())


@only_on("sqlite", "the SQLite file under workers killed mid-write")
def test_killing_workers_at_random_loses_no_answered_write(app):
    """Workers are killed with SIGKILL at random while four clients write to SQLite: requests
    in flight are dropped, never half saved; everything answered as saved is there, and the
    database file passes SQLite's integrity check."""
    _, token = make_token(make_user(role="member"))
    kills = 0
    chance = random.Random(7)
    # The token's requests are counted (the limiter writes too while workers die), never
    # limited: a 429 would be an answer that is no write.
    with (running_gunicorn(app, workers=3, API_RATE_LIMIT=UNREACHED) as server,
          Load(server.base, token=token) as load):
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            time.sleep(chance.uniform(0.1, 0.3))
            workers = server.workers()
            if workers:
                server.kill_worker(chance.choice(workers))
                kills += 1
        # The master replaces the killed workers and the clients go on being served.
        before = load.successes()
        wait_for(lambda: load.successes() >= before + 20)
    assert kills >= 20
    assert set(load.statuses) <= {201, "dropped"}, load.statuses
    assert load.statuses[201] >= 50 and load.statuses["dropped"] >= 1
    assert_all_saved(load)
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []


@only_on("postgresql", "runs a PostgreSQL server of its own (the SQLite run needs none)")
def test_restarting_postgresql_under_load_gives_503s_and_loses_nothing(tmp_path):
    """A PostgreSQL server of the test's own is stopped and started again while four clients
    write through the API and two signed-in users read pages: during the outage every answer
    is a 503 (the API's error format, the page that says so), never a 500 or a broken
    connection; afterwards the same workers serve again without a restart, and everything
    answered as saved is there."""
    with private_postgresql() as server:
        app = make_app(tmp_path, server.url)
        with app.app_context():
            upgrade()
            user = make_user(role="member")
            _, token = make_token(user)
            # No worker is recycled after a number of requests: the same ones must recover.
            with running_gunicorn(app, workers=2, API_RATE_LIMIT=UNREACHED,
                                  GUNICORN_CMD_ARGS="--max-requests 0") as gunicorn:
                readers = [signed_in(gunicorn.base, user.email, DEFAULT_PASSWORD)[0]
                           for _ in range(2)]
                workers = gunicorn.workers()
                with Load(gunicorn.base, token=token, readers=readers) as load:
                    wait_for(lambda: load.successes() >= 20)
                    server.stop()
                    stopped = time.monotonic()
                    time.sleep(2)
                    restarting = time.monotonic()
                    server.start()
                    started = time.monotonic()
                    after = load.successes()
                    wait_for(lambda: load.successes() >= after + 20)
                    time.sleep(max(0, started + 3 - time.monotonic()))
                assert gunicorn.workers() == workers, "no worker had to be replaced"

                assert "Traceback" not in gunicorn.output()
            assert set(load.statuses) <= {200, 201, 503}, load.statuses
            assert load.error_codes == {"unavailable": load.statuses[503] - load.pages[503, True]}
            assert set(load.pages) == {(200, True), (503, True)}, load.pages
            outage = {status for sent, status in load.timeline
                      if stopped + 0.5 < sent < restarting - 0.5}
            assert outage == {503}
            recovered = {status for sent, status in load.timeline if sent > started + 2}
            assert recovered == {200, 201}
            assert_all_saved(load)
            db.session.remove()
            db.engine.dispose()


def wait_for(condition, seconds=30):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "waited in vain"
        time.sleep(0.05)


@contextmanager
def small_disk(size):
    """A new folder with a file system of `size` mounted on it (a tmpfs: it needs root)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small file system")
    folder = Path(tempfile.mkdtemp(prefix="lotse-disk-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs",
                    str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], check=True)
        folder.rmdir()


def fill(folder):
    """Write a file until the disk is full; return it."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 4096)
        except OSError as error:
            assert error.errno == errno.ENOSPC
    return filler


def write_until_the_disk_is_full(app, disk):
    """Contacts written through the API while `disk` (where the database lies) fills up: each
    write is saved (201) or refused with a 503 that says the storage is full; reading goes
    on; once space is freed, writing works again without a restart; nothing refused is
    stored, and nothing stored lacks its audit entry."""
    with app.app_context():
        _, token = make_token(make_user(role="member"))
        db.session.remove()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    saved, statuses = {}, Counter()

    def write(number):
        name = f"Platte {number}"
        response = client.post("/api/v1/contacts", headers=headers,
                               json={"first_name": "Jörg", "last_name": name})
        statuses[response.status_code] += 1
        if response.status_code == 201:
            saved[name] = response.json["id"]
        return response

    for number in range(20):
        assert write(number).status_code == 201
    filler = fill(disk)
    refused = None
    for number in range(20, 5000):
        response = write(number)
        if response.status_code == 503:
            refused = response
            break
    assert refused is not None, "the full disk never refused a write"
    assert refused.json["error"]["code"] == "unavailable"
    assert "Der Speicherplatz des Servers ist voll" in refused.json["error"]["message"]
    assert write(5000).status_code == 503
    listing = client.get("/api/v1/contacts?limit=5", headers=headers)
    assert listing.status_code == 200, "reading goes on while the disk is full"

    filler.unlink()
    assert write(5001).status_code == 201, "writing works again once there is space"
    assert set(statuses) == {201, 503}
    with app.app_context():
        stored = dict(db.session.execute(sa.select(Contact.last_name, Contact.id)).all())
        assert all(stored.get(name) == id_ for name, id_ in saved.items())
        assert len(stored) == len(saved), "nothing refused was saved"
        audited = db.session.scalar(sa.select(sa.func.count()).where(
            AuditEntry.record_type == "contacts", AuditEntry.action == "contact.create"))
        assert audited == len(saved)
        db.session.remove()
        db.engine.dispose()


@only_on("sqlite", "the SQLite file on a full disk")
def test_a_full_disk_answers_503_saves_nothing_half_and_recovers(app_factory):
    """The SQLite file on a disk that fills up (see `write_until_the_disk_is_full`); the file
    passes SQLite's integrity check afterwards."""
    template = app_factory().config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    with small_disk("8m") as disk:
        shutil.copyfile(template, disk / "crm.sqlite3")
        app = app_factory(SQLALCHEMY_DATABASE_URI=f"sqlite:///{disk / 'crm.sqlite3'}")
        write_until_the_disk_is_full(app, disk)
        with closing(sqlite3.connect(disk / "crm.sqlite3")) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


@only_on("postgresql", "runs a PostgreSQL server of its own on a small disk")
def test_a_full_disk_under_postgresql_answers_503_and_recovers(tmp_path):
    """A PostgreSQL server of the test's own on a disk that fills up (see
    `write_until_the_disk_is_full`): the server refuses the writes and keeps running."""
    with small_disk("96m") as disk, private_postgresql(disk) as server:
        app = make_app(tmp_path, server.url)
        with app.app_context():
            upgrade()
            db.engine.dispose()
        write_until_the_disk_is_full(app, disk)
        assert "PANIC" not in server.log()


@only_on("sqlite", "a database file that cannot be opened")
def test_a_signed_in_page_while_the_database_is_gone_is_a_503_and_recovers(app_factory,
                                                                          tmp_path):
    """The database file cannot be opened (its folder gone): a signed-in user's page is the
    503 page, not a 500 (the page must not try to load the user again); when it is back, the
    same app serves the page again."""
    template = app_factory().config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copyfile(template, folder / "crm.sqlite3")
    app = app_factory(SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'crm.sqlite3'}")
    with app.app_context():
        user = make_user(role="member")
        client = log_in(app.test_client(), user)
        db.engine.dispose()
    folder.rename(tmp_path / "away")
    with app.app_context():
        db.engine.dispose()
    page = client.get("/contacts")
    assert page.status_code == 503
    assert "Vorübergehend nicht verfügbar" in page.get_data(as_text=True)
    api = client.get("/contacts", headers={"Accept": "application/json"})
    assert api.status_code == 503 and api.json["error"]["code"] == "unavailable"
    (tmp_path / "away").rename(folder)
    assert client.get("/contacts").status_code == 200
