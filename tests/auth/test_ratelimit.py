"""The database storage of the login throttling: counts per key, a window that ends starts
again, and clearing and resetting work; the same on SQLite and PostgreSQL."""

import sqlalchemy as sa

from crm.auth.models import RateLimitCounter
from crm.auth.ratelimit import DatabaseStorage
from crm.extensions import db


def test_counts_per_key_and_a_window_that_ended_starts_again(app):
    storage = DatabaseStorage("lotse-db://")
    assert [storage.incr("a", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.incr("b", 60, amount=2) == 2
    assert (storage.get("a"), storage.get("b"), storage.get("nobody")) == (3, 2, 0)
    db.session.execute(sa.update(RateLimitCounter).where(RateLimitCounter.key == "a")
                       .values(expires_at=1.0))
    db.session.commit()
    assert storage.get("a") == 0, "an ended window counts nothing"
    assert storage.incr("a", 60) == 1
    storage.clear("b")
    assert storage.get("b") == 0
    assert storage.check() is True
    assert storage.reset() == 1 and storage.get("a") == 0
