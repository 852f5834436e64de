"""Fixtures for the browser tests: Debian's Chromium driven by Playwright against a live server.

Every page a test opens may load nothing from outside 127.0.0.1 and may raise no script error,
console error or content-security-policy violation; the `page` fixture checks that after each
test and saves a screenshot to test-results/ when the test failed.
"""

import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect
from werkzeug.serving import make_server

from tests.factories import DEFAULT_PASSWORD, make_user

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    # Without these Chromium keeps trying to reach the internet.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LOCAL_HOST = "127.0.0.1"

# axe-core, committed under tests so CI needs no npm. `page.add_script_tag(path=...)` would inline
# it, which the content security policy rightly refuses (script-src 'self'); so the guard below
# answers this same-origin address from the file, and the app never sees the request.
AXE_SCRIPT = Path(__file__).parent / "vendor" / "axe.min.js"
AXE_URL_PATH = "/__browser-tests__/axe.min.js"

_phase_reports = pytest.StashKey[dict]()


def require_chromium(path=CHROMIUM):
    """Skip without Chromium on a developer machine; fail in CI, so CI cannot pass by skipping."""
    if os.path.exists(path):
        return
    reason = "Chromium not installed: apt-get install chromium (CI installs it)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; {path} is missing", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session", autouse=True)
def _chromium_installed():
    """Checked before any browser is launched (pytest-playwright errors without one)."""
    require_chromium()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, _chromium_installed):
    """pytest-playwright's launch options, with Debian's Chromium in German and offline."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS],
        # `env` replaces the browser's whole environment, so it starts from ours.
        "env": {**os.environ, "LANGUAGE": "de"},
    }


@pytest.fixture
def live_app(app_factory):
    """The app on this test's fresh database, with CSRF protection on as in production."""
    return app_factory(WTF_CSRF_ENABLED=True)


@pytest.fixture
def live_server(live_app):
    """The base URL of `live_app`, served on a free port for the length of the test."""
    server = make_server(LOCAL_HOST, 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://{LOCAL_HOST}:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def base_url(live_server):
    """Relative addresses (`page.goto("/login")`) go to this test's live server."""
    return live_server


@pytest.fixture
def browser_context_args(playwright, device, base_url):
    """pytest-playwright's context options, per test.

    Its own fixture is session-wide and so cannot take a per-test `base_url`.
    """
    args = dict(playwright.devices[device]) if device else {}
    args["base_url"] = base_url
    # No transitions: a button caught halfway through its hover fade fails axe's contrast check.
    args["reduced_motion"] = "reduce"
    return args


@dataclass
class Account:
    """What a person knows about their account: enough to log in and to be greeted."""

    email: str
    name: str
    password: str = DEFAULT_PASSWORD


@pytest.fixture
def make_account(live_app):
    """`make_account(**overrides)`: a user in the live server's database (see `make_user`)."""

    def make(**overrides):
        with live_app.app_context():
            user = make_user(**overrides)
            return Account(email=user.email, name=user.name)

    return make


@pytest.fixture
def sign_in(page, make_account):
    """`sign_in(**overrides)`: a new account, logged in on `page` through the login form."""

    def sign_in_as(**overrides):
        account = make_account(**overrides)
        page.goto("/login")
        page.get_by_label("E-Mail-Adresse").fill(account.email)
        page.get_by_label("Passwort").fill(account.password)
        page.get_by_role("button", name="Anmelden").click()
        expect(page.get_by_role("heading", name=f"Willkommen, {account.name}")).to_be_visible()
        return account

    return sign_in_as


# Chromium logs an error for every answer with a 4xx status, but the app answers a posted form
# or a refused move on the board deliberately so (422, or 401 for a failed login).
_FORM_ANSWER = re.compile(r"Failed to load resource: the server responded with a status of 4\d\d\b")


@dataclass
class PageProblems:
    """What a page did that it must not: reach outside, raise script or console errors."""

    external_requests: list = field(default_factory=list)
    page_errors: list = field(default_factory=list)
    console_messages: list = field(default_factory=list)  # (text, url, line) of each error
    form_answers: set = field(default_factory=set)  # addresses of the forms posted

    @property
    def console_errors(self):
        return [f"{text} ({url or 'page'}:{line})" for text, url, line in self.console_messages
                if not (url in self.form_answers and _FORM_ANSWER.match(text))]

    def __bool__(self):
        return bool(self.external_requests or self.page_errors or self.console_errors)

    def __str__(self):
        lines = []
        for title, items in [("Requests to outside 127.0.0.1 (aborted)", self.external_requests),
                             ("Uncaught script errors", self.page_errors),
                             ("Console errors (including CSP violations)", self.console_errors)]:
            if items:
                lines.append(f"{title}:")
                lines.extend(f"  - {item}" for item in items)
        return "\n".join(lines)

    def watch(self, page):
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("console", self._on_console)
        page.on("request", self._on_request)

    def _on_console(self, message):
        if message.type == "error":
            where = message.location
            self.console_messages.append((message.text, where["url"], where["lineNumber"]))

    def _on_request(self, request):
        # A posted form, or a move on the board, may be refused with a 4xx on purpose.
        if request.method == "POST":
            self.form_answers.add(request.url)


def _is_local(url):
    return urlsplit(url).hostname == LOCAL_HOST


@pytest.fixture
def page_problems():
    """What the test's page did wrong so far; the `page` fixture fails the test on any."""
    return PageProblems()


@pytest.fixture
def page(page: Page, page_problems, request, output_path) -> Page:
    """pytest-playwright's page, kept offline and watched for errors; screenshot on failure."""

    def guard(route):
        if not _is_local(route.request.url):
            page_problems.external_requests.append(route.request.url)
            route.abort("blockedbyclient")
        elif urlsplit(route.request.url).path == AXE_URL_PATH:
            route.fulfill(path=AXE_SCRIPT, content_type="text/javascript; charset=utf-8")
        else:
            route.continue_()

    page.route("**/*", guard)
    page_problems.watch(page)
    yield page
    reports = request.node.stash.get(_phase_reports, {})
    if any(report.failed for report in reports.values()):
        path = Path(output_path) / "failure.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=path, full_page=True)
        print(f"Screenshot of the failed test: {path}")
    if page_problems:
        pytest.fail(f"The page did what it must not:\n{page_problems}", pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test, so the `page` fixture knows if the test failed."""
    report = yield
    item.stash.setdefault(_phase_reports, {})[report.when] = report
    return report
