"""Tables: what a report or a list shows, in a shape that pages, charts and exports share."""

from dataclasses import dataclass, field

# What a column holds, which decides how it is formatted on the page and in the exports:
# text, a count, whole euros, a share (a float from 0 to 1), days (a float), a date.
KINDS = ("text", "count", "eur", "share", "days", "date")


@dataclass(frozen=True)
class Column:
    """One column of a report table: its key in the rows, its translated label, its kind."""

    key: str
    label: str
    kind: str = "text"

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Unknown column kind {self.kind!r}; expected one of {KINDS}")


@dataclass
class Table:
    """A titled table of a report; each row maps column keys to values (None is an empty cell).

    A row may carry `"_links": {column key: url}` for the page; the exports ignore it. For a
    download, `rows` may be any iterable, read once (`crm.core.exports.read_in_parts`).
    A table that lists only the first of more rows says how many there are in `total`, and
    where the list of all of them is in `more`.
    """

    key: str
    title: str
    columns: list[Column] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)
    total: int | None = None
    more: str | None = None
