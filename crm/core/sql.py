"""SQL the ORM does not spell the same on SQLite and PostgreSQL, compiled for each."""

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from crm.extensions import db


class days_between(FunctionElement):
    """Days (with fractions) from one moment to a later one, in SQL."""

    type = sa.Float()
    inherit_cache = True


@compiles(days_between, "sqlite")
def _days_between_sqlite(element, compiler, **kw):
    start, end = (compiler.process(argument, **kw) for argument in element.clauses)
    return f"(julianday({end}) - julianday({start}))"


@compiles(days_between)
def _days_between_default(element, compiler, **kw):
    start, end = (compiler.process(argument, **kw) for argument in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 86400.0)"


class shifted_day(FunctionElement):
    """A moment in UTC: midnight UTC at the start of a date column's day, moved by `hours`.

    Used to approximate a local midnight without the user's zone in SQL: 22:00 UTC of the day
    before is midnight in Central European summer time, the earliest in Europe."""

    type = sa.DateTime()
    inherit_cache = True

    def __init__(self, column, hours):
        self.hours = hours
        super().__init__(column)


@compiles(shifted_day, "sqlite")
def _shifted_day_sqlite(element, compiler, **kw):
    column = compiler.process(element.clauses, **kw)
    return f"datetime({column}, '{int(element.hours):+d} hours')"


@compiles(shifted_day)
def _shifted_day_default(element, compiler, **kw):
    column = compiler.process(element.clauses, **kw)
    # A plain timestamp read as UTC, whatever the session's time zone, to compare with timestamptz.
    return f"((CAST({column} AS timestamp) + INTERVAL '{int(element.hours)} hours') AT TIME ZONE 'UTC')"


def reserve_ids(table, count):
    """`count` new ids for rows of `table` (with an integer `id`) written in bulk, which other
    rows of the same bulk refer to. PostgreSQL takes them from the table's sequence, so others
    writing meanwhile get other ids. On SQLite they follow the highest id: the transaction
    first takes the database's one write lock (with a write that changes nothing), so nobody
    else can take them before it ends."""
    if count <= 0:
        return []
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        return list(connection.scalars(
            sa.text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                    "FROM generate_series(1, :count)"), {"table": table.name, "count": count}))
    connection.execute(sa.update(table).where(sa.false()).values(id=table.c.id))
    highest = connection.scalar(sa.select(sa.func.max(table.c.id))) or 0
    return list(range(highest + 1, highest + count + 1))
