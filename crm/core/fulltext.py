"""Finding words in the folded search columns through the databases' own indexes.

Each searchable table keeps a folded `search_text` (see `crm.core.text.search_key`): `Müller`,
`Mueller` and `MÜLLER` are all `muller` there, and queries are folded the same way. What finds a
word in it quickly differs by database:

- SQLite: an FTS5 table `<table>_fts` with the trigram tokenizer over the column, kept in step
  by triggers (so no write can forget it). A `LIKE '%word%'` on it is answered from the index
  when the word has three or more characters; shorter words are looked for in the column.
- PostgreSQL: a trigram GIN index (`pg_trgm`) on the column, which answers `LIKE '%word%'` by
  itself.

Both match any part of a word: `jen` finds Jenoptik, `민준` finds 김민준. The migration
`full_text_search` builds both; `compared_with_models` keeps them out of the model comparison.
"""

import re
import unicodedata
from contextlib import contextmanager

import sqlalchemy as sa

from crm.core.text import search_key
from crm.extensions import db

# The tables with a folded `search_text` and an index over it.
INDEXED_TABLES = ("organisations", "contacts", "events", "leads", "activities")
MAX_WORDS = 8
_TRIGRAM = 3
_WILDCARDS = re.compile(r"[%_\\]")


def query_words(q):
    """The folded words of a search, at most eight, longest first (they narrow the most).
    Control characters separate words (a NUL would end the pattern early in SQLite)."""
    text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in q or "")
    words = list(dict.fromkeys(search_key(text).split()))[:MAX_WORDS]
    return sorted(words, key=len, reverse=True)


def matching_words(column, q):
    """Conditions that find every word of `q` in a folded search column, through its index.

    On SQLite the words the full-text table can answer go to it in one query, which
    intersects their matches inside the index: a rare full name (`sören becker 4711`) is then
    as quick as its rarest word, not as slow as its most common one.
    """
    words = query_words(q)
    if db.session.get_bind().dialect.name != "sqlite":
        return [_contains(column, word) for word in words]
    indexed = [w for w in words if _answered_by_index(w)]
    conditions = [column.contains(w, autoescape=True) for w in words if w not in indexed]
    if indexed:
        index = _fts_table(column)
        conditions.insert(0, column.table.c.id.in_(sa.select(index.c.rowid).where(
            *[index.c.search_text.like(f"%{word}%") for word in indexed])))
    return conditions


def _answered_by_index(word):
    """Whether SQLite's full-text table can find `word`: three letters or more, no wildcard."""
    return len(word) >= _TRIGRAM and not _WILDCARDS.search(word)


def _fts_table(column):
    return sa.table(f"{column.table.name}_fts", sa.column("rowid"), sa.column("search_text"))


def _contains(column, word):
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        # Escaped with the backslash PostgreSQL's LIKE knows by default: no ESCAPE clause,
        # which keeps the pattern a plain constant for the trigram index.
        return column.like("%" + _WILDCARDS.sub(lambda m: "\\" + m.group(), word) + "%")
    if dialect == "sqlite" and _answered_by_index(word):
        # FTS5 uses its index only for a LIKE without an ESCAPE clause.
        index = _fts_table(column)
        return column.table.c.id.in_(
            sa.select(index.c.rowid).where(index.c.search_text.like(f"%{word}%")))
    return column.contains(word, autoescape=True)


def newest_matching(column, q, window, *conditions):
    """A condition selecting the newest `window` records (by id) that hold every word of `q`
    and meet `conditions` (what the user may see: the window holds only such records, so
    hidden ones neither take its places nor show that they exist).

    For a word in thousands of records (a common name in a million notes) this reads only
    as many matches as the window holds: SQLite's full-text table walks its matches newest
    first, each joined to its record, and stops; on PostgreSQL the planner may walk the ids
    backwards instead of collecting every match.
    """
    words = query_words(q)
    table = column.table
    dialect = db.session.get_bind().dialect.name
    if dialect == "sqlite" and all(_answered_by_index(w) for w in words):
        index = _fts_table(column)
        newest = (sa.select(index.c.rowid)
                  .select_from(index.join(table, table.c.id == index.c.rowid))
                  .where(*[index.c.search_text.like(f"%{word}%") for word in words],
                         *conditions)
                  .order_by(index.c.rowid.desc()))
    else:
        newest = (sa.select(table.c.id)
                  .where(*[_contains(column, word) for word in words], *conditions)
                  .order_by(table.c.id.desc()))
    return table.c.id.in_(newest.limit(window))


def word_rank(column, q):
    """An ORDER BY term, smaller for better matches: a word found at the start of the text
    (usually the name) counts 0, at the start of another word 1, inside a word 2; summed over
    the words of the search."""
    terms = []
    for word in query_words(q):
        escaped = _WILDCARDS.sub(lambda m: "/" + m.group(), word)
        terms.append(sa.case((column.like(f"{escaped}%", escape="/"), 0),
                             (column.like(f"% {escaped}%", escape="/"), 1), else_=2))
    return sum(terms[1:], terms[0]) if terms else sa.literal(0)


def compared_with_models(object_, name, type_, reflected, compare_to):
    """For Alembic's `include_object`: leave out the full-text tables (SQLite) and trigram
    indexes (PostgreSQL) the migrations make beside the models."""
    if type_ == "table":
        return not re.fullmatch(rf"({'|'.join(INDEXED_TABLES)})_fts(_\w+)?", name or "")
    if type_ == "index":
        return not (name or "").endswith("_search_trgm")
    return True


@contextmanager
def indexed_in_bulk(table):
    """Rows added to `table` within the block get into its SQLite FTS5 index in one statement
    at its end instead of one trigger call each (four times faster for a million rows): the
    insert trigger is dropped meanwhile and made again as it was. Only within a transaction
    that writes nothing else into the table, as a whole (SQLite's DDL is part of the
    transaction, and nobody else writes while it holds the lock). PostgreSQL's trigram index
    needs nothing."""
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    # A write first: pysqlite begins a transaction only then, and DDL outside one would be
    # committed at once.
    connection.execute(sa.update(table).where(sa.false()).values(id=table.c.id))
    name = f"{table.name}_fts_insert"
    trigger = connection.scalar(sa.text(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :name"), {"name": name})
    highest = connection.scalar(sa.select(sa.func.max(table.c.id))) or 0
    connection.exec_driver_sql(f"DROP TRIGGER {name}")
    yield
    connection.exec_driver_sql(
        f"INSERT INTO {table.name}_fts(rowid, search_text) "
        f"SELECT id, search_text FROM {table.name} WHERE id > ?", (highest,))
    connection.exec_driver_sql(trigger)
