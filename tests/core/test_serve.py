"""The production server: gunicorn with gunicorn.conf.py, several workers, the real app."""

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.factories import DEFAULT_PASSWORD, make_user
from tests.servers import running_gunicorn, signed_in


@pytest.fixture
def gunicorn(app):
    with running_gunicorn(app) as server:
        yield server.base


def test_gunicorn_with_two_workers_serves_logins_and_pages(gunicorn):
    user = make_user(name="Lea Schäfer")
    opener, home = signed_in(gunicorn, user.email, DEFAULT_PASSWORD)
    assert "Willkommen, Lea Schäfer" in home

    def fetch(_):
        return opener.open(gunicorn + "/").status

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(fetch, range(40)))
    assert statuses == [200] * 40


def login_attempts(base, email, count, *, forwarded_for=None):
    """`count` wrong-password logins for `email`, each on a new connection (so that the
    workers share them out), with a valid CSRF token; their status codes."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    statuses = []
    for number in range(count):
        data = urllib.parse.urlencode({"csrf_token": token, "email": email,
                                       "password": "not the password"}).encode()
        request = urllib.request.Request(base + "/login", data=data)
        if forwarded_for:
            request.add_header("X-Forwarded-For", f"{forwarded_for}.{number + 1}")
        try:
            statuses.append(opener.open(request).status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)
    return statuses


def test_login_throttling_holds_across_three_workers(app):
    """The count lives in the database: with three workers, the sixth attempt in a minute from
    one address is refused, whichever worker gets it (each worker counting alone would let
    up to fifteen through)."""
    user = make_user()
    with running_gunicorn(app, workers=3, RATELIMIT_ENABLED="1",
                          LOGIN_RATE_LIMIT="5 per minute") as server:
        statuses = login_attempts(server.base, user.email, 12)
    assert statuses == [401] * 5 + [429] * 7


def test_an_account_is_throttled_from_any_address_and_unknown_ones_alike(app):
    """Guessing one account's password from many addresses is throttled per account; an
    account that does not exist gets exactly the same answers."""
    user = make_user()
    with running_gunicorn(app, workers=2, RATELIMIT_ENABLED="1", PROXY_COUNT="1",
                          LOGIN_RATE_LIMIT="100 per minute",
                          LOGIN_ACCOUNT_RATE_LIMIT="4 per hour",
                          TRUSTED_HOSTS="127.0.0.1") as server:
        known = login_attempts(server.base, user.email, 6, forwarded_for="203.0.113")
        unknown = login_attempts(server.base, "niemand@lotse.example", 6,
                                 forwarded_for="198.51.100")
        other = login_attempts(server.base, make_user().email, 1, forwarded_for="192.0.2")
    assert known == unknown == [401] * 4 + [429] * 2
    assert other == [401], "another account is not held up"
