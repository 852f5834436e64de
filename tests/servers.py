"""Real servers for the tests that need them: gunicorn with the production settings, and a
PostgreSQL server of the test's own that it may stop and start."""

import glob
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on (at this moment)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Gunicorn:
    base: str
    process: subprocess.Popen
    log: Path

    def output(self):
        """What gunicorn and the app wrote to stdout and stderr so far."""
        return self.log.read_text(errors="replace")

    def workers(self):
        """The process ids of the master's current workers."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def kill_worker(self, pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # it had just been replaced


@contextmanager
def running_gunicorn(app, workers=2, **settings):
    """gunicorn with `gunicorn.conf.py` on a free port, against the app's database; `settings`
    are further environment variables. Yields a `Gunicorn` (its base address and process).

    The output goes to a file: a pipe that nobody reads would block the workers once full."""
    with tempfile.TemporaryDirectory(prefix="lotse-gunicorn-") as folder:
        path = Path(folder) / "gunicorn.log"
        with path.open("w") as log:
            yield from _serve(app, workers, settings, log, path)


def _serve(app, workers, settings, log, path):
    port = free_port()
    env = {**os.environ, "SECRET_KEY": "gunicorn-test-key", "PASSWORD_HASH_PROFILE": "CHEAPEST",
           "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "WEB_CONCURRENCY": str(workers), "GUNICORN_BIND": f"127.0.0.1:{port}",
           "GUNICORN_ACCESS_LOG": "/dev/null", **settings}
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--config", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Gunicorn(f"http://127.0.0.1:{port}", process, path)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(server.base + "/healthz", timeout=1)
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("gunicorn did not start:\n" + server.output()) from None
                time.sleep(0.1)
        yield server
    finally:
        _stop(process)


def _stop(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=40)  # longer than gunicorn's graceful timeout
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def signed_in(base, email, password):
    """A urllib opener that keeps the session cookie, signed in as `email`; and the home page."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"csrf_token": token, "email": email,
                                   "password": password}).encode()
    home = opener.open(base + "/login", data=data).read().decode()
    return opener, home


def _postgresql_bindir():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda path: int(Path(path).parts[4]) if Path(path).parts[4].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise AssertionError("PostgreSQL's initdb was not found")
    return Path(initdb).parent


class PrivatePostgreSQL:
    """A PostgreSQL cluster in a temporary folder on a free port, run by the `postgres` account
    when the tests run as root (PostgreSQL refuses to run as root)."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.data = self.folder / "data"
        self.port = free_port()
        self.bindir = _postgresql_bindir()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command):
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, str(self.bindir / command[0]), *command[1:]], check=True,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)

    def init(self):
        self._run("initdb", "--pgdata", str(self.data), "--username", "postgres",
                  "--auth", "trust", "--no-sync", "--encoding", "UTF8", "--locale", "C.UTF-8")

    def start(self):
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 "
                   f"-c unix_socket_directories={self.folder}")
        self._run("pg_ctl", "--pgdata", str(self.data), "--log", str(self.folder / "server.log"),
                  "--options", options, "--wait", "start")

    def stop(self, mode="fast"):
        self._run("pg_ctl", "--pgdata", str(self.data), "--mode", mode, "--wait", "stop")

    def log(self):
        path = self.folder / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextmanager
def private_postgresql(folder=None):
    """Start a PostgreSQL server of the test's own (in `folder`, or a new temporary one) and
    yield it; stopped, and its files removed, after."""
    folder = Path(folder or tempfile.mkdtemp(prefix="lotse-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    server = PrivatePostgreSQL(folder)
    try:
        server.init()
        server.start()
        yield server
    finally:
        try:
            server.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # it was not running
        shutil.rmtree(server.data, ignore_errors=True)
        if folder.name.startswith("lotse-pg-"):
            shutil.rmtree(folder, ignore_errors=True)
