"""SQL the ORM does not spell the same on SQLite and PostgreSQL, compiled for each."""

import sqlite3

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


def insert_many(table, rows):
    """Insert `rows` (dicts with the same keys, values as for the ORM) into `table` the
    quickest way each database has, for writes in bulk (an import's new people): SQLite takes
    many rows in each INSERT ... VALUES, PostgreSQL reads them with COPY. SQLAlchemy's own
    executemany sends a statement per row, and SQLite runs the full-text trigger's bookkeeping
    for each statement: four times slower there, twice on PostgreSQL. The values pass the
    columns' own type conversions and are stored as the ORM stores them."""
    if not rows:
        return
    names = rows[0].keys()
    if any(row.keys() != names for row in rows):
        raise ValueError("insert_many: every row needs the same columns")
    connection = db.session.connection()
    dialect, quote = connection.dialect, connection.dialect.identifier_preparer
    columns = [table.c[name] for name in names]
    converted = _converted(rows, columns, dialect)
    into = f"{quote.format_table(table)} ({', '.join(quote.format_column(c) for c in columns)})"
    if dialect.name == "postgresql":
        _copy(connection, f"COPY {into} FROM STDIN", converted)
        return
    driver = connection.connection.driver_connection
    per = max(1, driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // len(columns))
    marks = f"({', '.join('?' * len(columns))})"
    for start in range(0, len(converted), per):
        part = converted[start:start + per]
        connection.exec_driver_sql(f"INSERT INTO {into} VALUES {', '.join([marks] * len(part))}",
                                   tuple(value for row in part for value in row))


def _copy(connection, statement, rows):
    """`rows` into a table through PostgreSQL's COPY. Its errors are raised as SQLAlchemy's
    (IntegrityError, DataError, ...), as those of any other statement, so that the error
    pages answer them (a full disk, a conflict) and a lost connection is not used again."""
    driver, dbapi = connection.connection.driver_connection, connection.dialect.loaded_dbapi
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    except dbapi.Error as error:
        lost = connection.dialect.is_disconnect(error, driver, None)
        if lost:
            connection.invalidate(error)
        raise sa.exc.DBAPIError.instance(statement, None, error, dbapi.Error,
                                         connection_invalidated=lost) from error


def _converted(rows, columns, dialect):
    """The rows' values as the driver takes them (tuples), converted by each column's type."""
    cells = []
    for column in columns:
        convert = column.type.dialect_impl(dialect).bind_processor(dialect)
        values = [row[column.name] for row in rows]
        cells.append(values if convert is None else _each_converted(
            values, convert, column.type.should_evaluate_none))
    return list(zip(*cells, strict=True))


def _each_converted(values, convert, evaluate_none):
    """`values` converted, each distinct one once (a moment all rows share, a flag). None
    stays None (SQL NULL) unless the type stores it as a value, as JSON does ('null')."""
    done, converted = {}, []
    for value in values:
        if value is None and not evaluate_none:
            converted.append(None)
            continue
        if isinstance(value, dict | list):  # a document: not hashable, and each one new
            converted.append(convert(value))
            continue
        key = (type(value), value)
        if key not in done:
            done[key] = convert(value)
        converted.append(done[key])
    return converted
