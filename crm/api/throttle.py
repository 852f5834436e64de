"""Each API token's requests counted and limited (`API_RATE_LIMIT`, default 600 a minute).

The counters live where the login limits' do (`RATELIMIT_STORAGE_URI`: the app's own database
by default, Redis for several machines), in fixed windows per token, as the `limits` library
(which Flask-Limiter is built on) keeps them. Every answer through a token says where it stands
(`RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` in seconds); one over the limit
gets 429 with `Retry-After`.

The app keeps its own storage rather than Flask-Limiter's shared instance, whose storage is that
of whichever app was set up last.
"""

import math
import time
from dataclasses import dataclass

from flask import current_app
from limits import parse
from limits.storage import storage_from_string

from crm.auth.ratelimit import DatabaseStorage

EXTENSION = "lotse_api_limit"


@dataclass(frozen=True)
class Allowance:
    """Where a token stands in its current window."""

    allowed: bool
    limit: int
    remaining: int
    reset_after: int  # seconds until the window starts anew

    def headers(self):
        headers = {"RateLimit-Limit": str(self.limit),
                   "RateLimit-Remaining": str(self.remaining),
                   "RateLimit-Reset": str(self.reset_after)}
        if not self.allowed:
            headers["Retry-After"] = str(self.reset_after)
        return headers


def init_app(app):
    """Binds the counter storage; a limit the `limits` notation cannot read stops the start."""
    rule = app.config["API_RATE_LIMIT"]
    if app.config["RATELIMIT_ENABLED"] and rule:
        storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
        app.extensions[EXTENSION] = (storage, parse(rule))


def spend(token):
    """Counts one request made with `token`: its `Allowance`, or None when nothing is limited.

    A fixed window, as `limits.strategies.FixedWindowRateLimiter` counts it; the database's
    storage tells the count and the window's end in one statement (the request's only write).
    """
    configured = current_app.extensions.get(EXTENSION)
    if configured is None:
        return None
    storage, item = configured
    key = item.key_for("api-token", str(token.id))
    if isinstance(storage, DatabaseStorage):
        count, ends = storage.incr_with_expiry(key, item.get_expiry())
    else:
        count = storage.incr(key, item.get_expiry())
        ends = storage.get_expiry(key)
    return Allowance(allowed=count <= item.amount, limit=item.amount,
                     remaining=max(0, item.amount - count),
                     reset_after=max(0, math.ceil(ends - time.time())))
