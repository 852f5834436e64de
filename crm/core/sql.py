"""SQL the ORM does not spell the same on SQLite and PostgreSQL, compiled for each."""

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


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
