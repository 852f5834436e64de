"""`make bench`: the speed of the key pages under load, on SQLite and on PostgreSQL, as ratios
to a bare Flask page measured in the same run (see "Quality bars" in the design).

For each database: the generated data of `crm generate` (made once, reused while it has the
size asked for), the application under gunicorn with 2 workers, a signed-in session and an API
token, then `wrk` with 16 connections from another process for `--seconds` per page. Then the
speed of an import of 100,000 rows into an empty database, and the peak memory of a worker.

    .venv/bin/python scripts/bench.py [--seconds 10] [--contacts 200000] [--only sqlite]
"""

import argparse
import http.cookiejar
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
INSTANCE = ROOT / "instance"
USER, PASSWORD = "bench@lotse.example", "bench-password-" + "x" * 8
CONNECTIONS, THREADS = 16, 2
# The design's bars: (share of the bare page on SQLite, on PostgreSQL); p99 under 150 ms.
LIST, SEARCH, BOARD, DASHBOARD = (0.20, 0.10), (0.10, 0.10), (0.08, 0.08), (0.05, 0.05)
P99_BAR_MS = 150


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", "10")))
    parser.add_argument("--contacts", type=int, default=200_000)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--postgres-url", default=os.environ.get(
        "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1/lotse_bench"))
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: `apt-get install wrk` (make bench installs it).")
    databases = {"sqlite": f"sqlite:///{INSTANCE / 'bench.sqlite3'}",
                 "postgresql": args.postgres_url}
    for name, url in databases.items():
        if args.only in (None, name):
            bench_database(name, url, args)


def bench_database(name, url, args):
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(16),
           "LOTSE_ENV": "development",
           # Each API request is counted as in production, against a limit never reached.
           "API_RATE_LIMIT": "1000000000 per minute"}
    print(f"\n## {name}: {args.contacts:,} contacts", flush=True)
    prepare(name, url, env, args.contacts)
    ceiling = serve(["bench_ceiling:app"], env, cwd=ROOT / "scripts")  # without our settings
    try:
        bare = load(ceiling.url + "/", None, args.seconds)
    finally:
        ceiling.stop()
    server = serve(["--config", str(ROOT / "gunicorn.conf.py"), "wsgi:app"], env)
    try:
        cookie, token, targets = sign_in(server.url, env)
        rows = []
        for label, path, bar in targets:
            headers = token if path.startswith("/api/") else cookie
            result = load(server.url + path, headers, args.seconds)
            rows.append((label, result, bar[0 if name == "sqlite" else 1]))
        memory = server.peak_memory_mb()
    finally:
        server.stop()
    print("\n| page | requests/s | p50 ms | p99 ms | share of bare page | bar | holds |")
    print("|---|---:|---:|---:|---:|---:|---|")
    print(f"| bare Flask page (ceiling) | {bare.rps:,.0f} | {bare.p50:.1f} | {bare.p99:.1f} "
          f"| 100% | | |")
    for label, result, bar in rows:
        share = result.rps / bare.rps
        holds = share >= bar and result.p99 < P99_BAR_MS and not result.errors
        note = f" ({result.errors} errors)" if result.errors else ""
        print(f"| {label} | {result.rps:,.0f} | {result.p50:.1f} | {result.p99:.1f} | "
              f"{share:.1%} | ≥ {bar:.0%}, p99 < {P99_BAR_MS} ms | "
              f"{'yes' if holds else 'no'}{note} |")
    print(f"\nPeak memory of a worker: {memory[0]:.0f} MB resident; its own memory at the end: "
          f"{memory[1]:.0f} MB (the rest is shared: the mapped database file, code)")
    print(f"Import: {import_speed(name, url, env):,.0f} rows a second (100,000 new people)",
          flush=True)


def flask(env, *arguments, stdin=None):
    return subprocess.run([str(BIN / "flask"), "--app", "wsgi", *arguments], cwd=ROOT, env=env,
                          input=stdin, text=True, capture_output=True, check=True).stdout


def prepare(name, url, env, contacts):
    """The database with the generated data, reused when it has `contacts` already."""
    if name == "postgresql":
        ensure_postgres_database(url)
    flask(env, "db", "upgrade")
    have = int(run_python(env, "import sqlalchemy as sa; from crm.contacts.models import "
                               "Contact; print(db.session.scalar(sa.select(sa.func.count("
                               "Contact.id))))"))
    if have < contacts:
        if have:
            reset(name, url, env)
        started = time.monotonic()
        flask(env, "crm", "generate", "--contacts", str(contacts))
        print(f"Generated in {time.monotonic() - started:.0f} s", flush=True)
    else:
        print(f"Reusing {have:,} contacts", flush=True)
    run_python(env, f"""
from crm.auth import services
from crm.auth.models import User
user = db.session.scalar(sa.select(User).where(User.email == {USER!r}))
if user is None:
    services.create_user(email={USER!r}, name="Bench Manager", role="admin",
                         password={PASSWORD!r}, actor=None)
    db.session.commit()
""")


def reset(name, url, env):
    if name == "sqlite":
        Path(url.removeprefix("sqlite:///")).unlink()
    else:
        run_python(env, "db.session.execute(sa.text('DROP SCHEMA public CASCADE')); "
                        "db.session.execute(sa.text('CREATE SCHEMA public')); "
                        "db.session.commit()")
    flask(env, "db", "upgrade")


def ensure_postgres_database(url):
    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    code = (f"import psycopg\nwith psycopg.connect({admin!r}, autocommit=True) as c:\n"
            f"    if not c.execute('SELECT 1 FROM pg_database WHERE datname = %s', "
            f"({name!r},)).fetchone():\n        c.execute('CREATE DATABASE {name}')\n")
    subprocess.run([str(BIN / "python"), "-c", code], check=True)


def run_python(env, code):
    """Run `code` in the application's context (with `db` and `sa`); its output."""
    script = ("import sqlalchemy as sa\nfrom crm import create_app\nfrom crm.extensions import db\n"
              "app = create_app()\nwith app.app_context():\n"
              + "".join(f"    {line}\n" for line in code.strip().splitlines()))
    return subprocess.run([str(BIN / "python"), "-c", script], cwd=ROOT, env=env, text=True,
                          capture_output=True, check=True).stdout.strip()


class Server:
    def __init__(self, process, port):
        self.process, self.url = process, f"http://127.0.0.1:{port}"

    def peak_memory_mb(self):
        """The highest resident memory any worker reached (VmHWM), and the largest memory of
        a worker's own at the end of the run (RssAnon: not the mapped database file or code,
        which the workers share with each other and the system's file cache), in MB."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        peaks, own = [], []
        for pid in children.read_text().split():
            status = Path(f"/proc/{pid}/status").read_text()
            peaks.append(int(re.search(r"VmHWM:\s+(\d+) kB", status)[1]) / 1024)
            own.append(int(re.search(r"RssAnon:\s+(\d+) kB", status)[1]) / 1024)
        return max(peaks, default=0), max(own, default=0)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


def serve(arguments, env, cwd=ROOT):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), *arguments, "--workers", "2", "--threads", "1",
         "--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null",
         "--max-requests", "0", "--log-level", "warning"],
        cwd=cwd, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            break
        except urllib.error.HTTPError:
            break  # it answers (the ceiling app has no /healthz)
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        sys.exit("gunicorn did not start")
    return Server(process, port)


def sign_in(base, env):
    """A session cookie and an API token header of the bench user, and the pages to load."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(base + "/login").read().decode()
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form) or re.search(
        r'name="csrf_token" value="([^"]+)"', form)
    data = urllib.parse.urlencode({"csrf_token": csrf[1], "email": USER,
                                   "password": PASSWORD}).encode()
    opener.open(base + "/login", data)
    cookie = "Cookie: " + "; ".join(f"{c.name}={c.value}" for c in jar)
    token = flask(env, "crm", "create-token", USER, "--name", "bench").strip().splitlines()[-1]
    facts = run_python(env, """
from crm.contacts.models import Contact
from crm.leads.models import Lead
# A person written with an umlaut, found by the full name with their id (a few records).
rare = db.session.scalar(sa.select(Contact).where(
    Contact.id >= 4711, Contact.first_name.in_(["Jürgen", "Käthe", "Björn", "Sören", "Jörg"]))
    .order_by(Contact.id).limit(1)) or db.session.scalar(sa.select(Contact).limit(1))
lead = db.session.scalar(sa.select(sa.func.max(Lead.id)))
print(rare.first_name, rare.last_name, rare.id, lead, sep="\\t")
""")
    first, last, rare_id, lead_id = facts.split("\t")
    rare = f"{first} {last} {rare_id}"
    rare_folded = rare.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace(
        "ß", "ss")
    quote = urllib.parse.quote
    targets = [
        ("contact list, first page", "/contacts", LIST),
        ("contact list, page 3,000", "/contacts?page=3000", LIST),
        ("organisation list", "/organisations", LIST),
        ("search 'Müller' (common)", f"/search?q={quote('Müller')}", SEARCH),
        ("search 'mueller' (common)", "/search?q=mueller", SEARCH),
        (f"search '{rare}' (rare)", f"/search?q={quote(rare)}", SEARCH),
        (f"search '{rare_folded}' (rare)", f"/search?q={quote(rare_folded)}", SEARCH),
        ("pipeline board", "/pipeline", BOARD),
        ("lead list, filtered", "/leads?stage=active&sector=automotive", LIST),
        ("manager dashboard", "/reports", DASHBOARD),
        ("lead detail", f"/leads/{lead_id}", LIST),
        ("API contact list", "/api/v1/contacts", LIST),
    ]
    for label, path, _ in targets:
        request = urllib.request.Request(base + path)
        name, value = (token_header(token) if path.startswith("/api/") else cookie).split(
            ": ", 1)
        request.add_header(name, value)
        with urllib.request.urlopen(request) as response:
            if response.status != 200 or response.url.rstrip("/").endswith("/login"):
                sys.exit(f"{label}: {response.status} {response.url}")
    return cookie, token_header(token), targets


def token_header(token):
    return token if token.startswith("Authorization") else f"Authorization: Bearer {token}"


class Result:
    def __init__(self, output):
        self.rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])
        self.p50 = _milliseconds(re.search(r"\s50%\s+([\d.]+\w+)", output)[1])
        self.p99 = _milliseconds(re.search(r"\s99%\s+([\d.]+\w+)", output)[1])
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
        socket_errors = re.search(r"Socket errors: (.*)", output)
        self.errors = int(errors[1]) if errors else 0
        if socket_errors and "timeout" in socket_errors[1]:
            self.errors += int(re.search(r"timeout (\d+)", socket_errors[1])[1])


def _milliseconds(text):
    number, unit = re.fullmatch(r"([\d.]+)(\w+)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000}[unit]


def load(url, header, seconds):
    """`wrk` on `url` for `seconds`, after the server has caught up with the last load (a
    slow page leaves requests queued behind it) and has served this page once."""
    request = urllib.request.Request(url)
    if header:
        request.add_header(*header.split(": ", 1))
    urllib.request.urlopen(request, timeout=600).read()
    command = ["wrk", "-t", str(THREADS), "-c", str(CONNECTIONS), "-d", f"{seconds}s",
               "--latency", "--timeout", "10s"]
    if header:
        command += ["-H", header]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    return Result(output)


def import_speed(name, url, env):
    """Rows a second of an import of 100,000 new people into an empty database."""
    if name == "sqlite":
        scratch = f"sqlite:///{INSTANCE / 'bench-import.sqlite3'}"
        Path(scratch.removeprefix("sqlite:///")).unlink(missing_ok=True)
    else:
        scratch = url + "_import"
        ensure_postgres_database(scratch)
    scratch_env = {**env, "DATABASE_URL": scratch}
    if name == "postgresql":
        reset(name, scratch, scratch_env)
    else:
        flask(scratch_env, "db", "upgrade")
    return float(run_python(scratch_env, """
import time
from crm.imports.reading import guess_mapping, read_table
from crm.imports.services import import_contacts
rows = "".join(f"Jürgen;Müller {i};besucher{i}@example.kr;+49 3641 {100000 + i};Firma {i % 50} GmbH;Messe\\r\\n" for i in range(100_000))
data = ("Vorname;Nachname;E-Mail;Telefon;Firma;Schlagworte\\r\\n" + rows).encode()
started = time.perf_counter()
table = read_table("bench.csv", data)
import_contacts(table, guess_mapping(table.header), actor=None, filename="bench.csv")
db.session.commit()
print(100_000 / (time.perf_counter() - started))
"""))


if __name__ == "__main__":
    main()
