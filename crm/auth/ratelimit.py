"""Login throttling counted in the application's own database, so that every gunicorn worker
sees the same counts without Redis: `RATELIMIT_STORAGE_URI=lotse-db://` (the default).

A storage backend for the `limits` library (which Flask-Limiter uses), for its fixed-window
strategy: one row per key, incremented in one atomic upsert on its own connection, outside the
request's transaction. Redis (`redis://...`) remains the choice for several machines.
"""

import time
from typing import ClassVar

import sqlalchemy as sa
from limits.storage import Storage
from sqlalchemy.exc import SQLAlchemyError

from crm.auth.models import RateLimitCounter
from crm.extensions import db

_TABLE = RateLimitCounter.__table__

# SQLite (3.35+) and PostgreSQL both understand this upsert; the SET expressions read the row
# as it was, so a window that has ended starts again at `amount`.
_INCREMENT = sa.text(
    "INSERT INTO rate_limits (key, count, expires_at) VALUES (:key, :amount, :ends) "
    "ON CONFLICT (key) DO UPDATE SET "
    "count = CASE WHEN rate_limits.expires_at <= :now THEN :amount "
    "ELSE rate_limits.count + :amount END, "
    "expires_at = CASE WHEN rate_limits.expires_at <= :now THEN :ends "
    "ELSE rate_limits.expires_at END "
    "RETURNING count, expires_at")


class DatabaseStorage(Storage):
    """Counters in the `rate_limits` table of the application's database."""

    STORAGE_SCHEME: ClassVar[list[str]] = ["lotse-db"]

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    def incr(self, key, expiry, amount=1):
        return self.incr_with_expiry(key, expiry, amount)[0]

    def incr_with_expiry(self, key, expiry, amount=1):
        """`incr`, and when the key's window ends (a Unix time), from the same statement."""
        now = time.time()
        with db.engine.begin() as connection:
            count, ends = connection.execute(_INCREMENT, {"key": key, "amount": amount,
                                                          "now": now, "ends": now + expiry}).one()
            # Now and then, drop the windows that ended long ago.
            if int(now) % 97 == 0:
                connection.execute(_TABLE.delete().where(_TABLE.c.expires_at < now - 86400))
        return count, ends

    def get(self, key):
        with db.engine.connect() as connection:
            count = connection.execute(sa.select(_TABLE.c.count).where(
                _TABLE.c.key == key, _TABLE.c.expires_at > time.time())).scalar()
        return count or 0

    def get_expiry(self, key):
        with db.engine.connect() as connection:
            ends = connection.execute(sa.select(_TABLE.c.expires_at).where(
                _TABLE.c.key == key)).scalar()
        return ends if ends is not None else time.time()

    def check(self):
        try:
            with db.engine.connect() as connection:
                connection.execute(sa.select(sa.func.count()).select_from(_TABLE))
        except SQLAlchemyError:
            return False
        return True

    def reset(self):
        with db.engine.begin() as connection:
            return connection.execute(_TABLE.delete()).rowcount

    def clear(self, key):
        with db.engine.begin() as connection:
            connection.execute(_TABLE.delete().where(_TABLE.c.key == key))
