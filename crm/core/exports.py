"""Tables as downloads: CSV that German Excel opens as it is, and XLSX workbooks."""

import csv
import datetime
import io
import itertools
import math
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

from flask import Response
from flask_babel import to_user_timezone
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from crm.core.models import utcnow
from crm.extensions import db

CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
VCARD_MIMETYPE = "text/vcard; charset=utf-8"

# A spreadsheet reads a cell starting with one of these as a formula (OWASP, CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# How many records a download reads from the database at a time, and how many rows decide
# the width of a workbook's columns.
EXPORT_CHUNK = 1_000
WIDTH_SAMPLE = 1_000

XLSX_NUMBER_FORMATS = {
    "count": "#,##0",
    "eur": '#,##0 "€"',
    "share": "0.0%",
    "days": "0.0",
    "date": "DD.MM.YYYY",
}


def neutralise(text):
    """Text a spreadsheet shows as text: a leading `'` stops `=HYPERLINK(...)` being run."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _rounded(value, places):
    """A number rounded half up (as people round, not as floats happen to) to `places`."""
    step = Decimal(1).scaleb(-places)
    rounded = Decimal(str(value)).quantize(step, rounding=ROUND_HALF_UP)
    return rounded if rounded else abs(rounded)  # no "-0,0"


def _decimal_comma(value, places=1):
    return f"{_rounded(value, places):.{places}f}".replace(".", ",")


def _is_typed(value, kind):
    """Whether a value is what its column's kind promises (anything else is shown as text)."""
    if kind == "date":
        return isinstance(value, datetime.date)
    if kind == "text" or not isinstance(value, int | float | Decimal):
        return False
    return math.isfinite(value)  # NaN and infinity are no number a spreadsheet can hold


def csv_cell(value, kind):
    """One value as German Excel reads it: `1250000`, `12,5` (a share in %), `05.03.2026`."""
    if value is None:
        return ""
    if not _is_typed(value, kind):
        return neutralise(str(value))
    if kind in ("count", "eur"):
        return str(int(_rounded(value, 0)))
    if kind == "share":
        return _decimal_comma(Decimal(str(value)) * 100)
    if kind == "days":
        return _decimal_comma(value)
    return value.strftime("%d.%m.%Y")


def csv_label(column):
    label = str(column.label) + (" (%)" if column.kind == "share" else "")
    return neutralise(label)


def to_csv(tables, *, titles=True):
    """The tables one below the other: title, header, rows, an empty line. UTF-8 with BOM,
    `;` between cells and CRLF line ends, as German Excel expects. Without `titles` (a list:
    one table), only the header and the rows, ready to be read by another program."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for table in tables:
        if titles:
            writer.writerow([neutralise(str(table.title))])
        writer.writerow([csv_label(column) for column in table.columns])
        for row in table.rows:
            writer.writerow([csv_cell(row.get(c.key), c.kind) for c in table.columns])
        if titles:
            writer.writerow([])
    return buffer.getvalue().encode("utf-8-sig")


def _xlsx_text(value):
    # Control characters other than tab and line breaks are not allowed in a worksheet.
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def _set_text(cell, value):
    """Text kept as written and stored as a string: never a formula or an error code, whatever
    it looks like. Text that would read as a formula also gets Excel's quote prefix (shown as
    nothing), so that it stays text when someone edits the cell."""
    cell.value = _xlsx_text(value)
    cell.data_type = "s"
    if cell.value.startswith(_FORMULA_STARTS):
        cell.quotePrefix = True


def _set_value(cell, value, kind):
    if value is None:
        return
    if not _is_typed(value, kind):
        _set_text(cell, value)
        return
    if kind == "date" and isinstance(value, datetime.datetime):
        value = value.date()
    cell.value = value
    cell.number_format = XLSX_NUMBER_FORMATS[kind]


def _width(value, kind):
    """About how many characters a value takes on screen (for fitting the column)."""
    if value is None:
        return 0
    if not _is_typed(value, kind):
        return max((len(line) for line in str(value).splitlines()), default=0)
    if kind == "date":
        return 10
    if kind in ("count", "eur"):
        digits = len(str(abs(int(_rounded(value, 0)))))
        return digits + digits // 3 + (2 if kind == "eur" else 0) + 1
    return len(csv_cell(value, kind)) + 1


_INVALID_SHEET_CHARACTERS = re.compile(r"[\[\]:*?/\\]")


def sheet_title(title, taken, fallback="Tabelle"):
    """A worksheet name Excel accepts: at most 31 characters, none of `[]:*?/\\`, not starting
    or ending with `'`, and not in `taken` (compared without case, as Excel does). The name is
    added to `taken`."""
    name = ILLEGAL_CHARACTERS_RE.sub("", _INVALID_SHEET_CHARACTERS.sub(" ", str(title)))
    name = " ".join(name.split())[:31].strip().strip("'").strip() or fallback
    candidate, number = name, 1
    while candidate.casefold() in taken:
        number += 1
        suffix = f" ({number})"
        candidate = name[: 31 - len(suffix)].rstrip() + suffix
    taken.add(candidate.casefold())
    return candidate


def to_xlsx(tables, *, title, titles=True):
    """A workbook with one worksheet per table: title, bold header, then the rows as real
    numbers and dates with number formats, so they can be summed and charted. Without
    `titles`, each sheet starts with the header (a list, ready to be filtered and read).

    The rows may be any iterable, read once: the workbook is written as they come
    (openpyxl's write-only mode), so a list of 200,000 people does not sit in memory as
    cells; the columns are made as wide as the first `WIDTH_SAMPLE` rows need."""
    workbook = Workbook(write_only=True)
    workbook.properties.title = str(title)
    workbook.properties.creator = "Lotse"
    # "History" is reserved by Excel for its change tracking.
    taken = {"history"}
    for table in tables:
        _write_sheet(workbook.create_sheet(sheet_title(table.title, taken, fallback=table.key)),
                     table, titles)
    if not tables:
        workbook.create_sheet(sheet_title(title, taken))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _write_sheet(sheet, table, titles):
    rows = iter(table.rows)
    first = list(itertools.islice(rows, WIDTH_SAMPLE))
    for number, column in enumerate(table.columns, start=1):
        widest = max([len(str(column.label))]
                     + [_width(row.get(column.key), column.kind) for row in first])
        sheet.column_dimensions[get_column_letter(number)].width = min(max(widest + 2, 8), 60)
    header = 2 if titles else 1
    sheet.freeze_panes = f"A{header + 1}"
    if titles:
        sheet.append([_text_cell(sheet, table.title, Font(bold=True, size=12))])
    sheet.append([_text_cell(sheet, column.label, Font(bold=True)) for column in table.columns])
    count = 0
    for row in itertools.chain(first, rows):
        sheet.append([_value_cell(sheet, row.get(column.key), column.kind)
                      for column in table.columns])
        count += 1
    if not titles and table.columns:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(table.columns))}{count + 1}"


def _text_cell(sheet, value, font):
    cell = WriteOnlyCell(sheet)
    _set_text(cell, value)
    cell.font = font
    return cell


def _value_cell(sheet, value, kind):
    if value is None:
        return None
    cell = WriteOnlyCell(sheet)
    _set_value(cell, value, kind)
    return cell


_TRANSLITERATIONS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss",
                                   "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


def filename(stem, day, extension):
    """An ASCII download name: `filename("Ergebnisse", day, "csv")` gives
    `lotse-ergebnisse-2026-11-22.csv` (umlauts spelt out, other accents dropped)."""
    text = unicodedata.normalize("NFKD", str(stem).translate(_TRANSLITERATIONS))
    ascii_text = text.encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    parts = ["lotse", slug, day.isoformat()] if slug else ["lotse", day.isoformat()]
    return "-".join(parts) + "." + extension.lstrip(".")


def _download(body, content_type, name):
    response = Response(body, content_type=content_type)
    response.headers.set("Content-Disposition", "attachment", filename=name)
    response.headers["Cache-Control"] = "no-store"
    return response


def _today():
    """Today in the user's time zone, for the download's name."""
    return to_user_timezone(utcnow()).date()


def csv_response(tables, stem, *, day=None):
    """The tables as a CSV download named after `stem` and the day."""
    return _download(to_csv(tables), CSV_MIMETYPE, filename(stem, day or _today(), "csv"))


def xlsx_response(tables, stem, title, *, day=None):
    """The tables as an XLSX download named after `stem` and the day."""
    return _download(to_xlsx(tables, title=title), XLSX_MIMETYPE,
                     filename(stem, day or _today(), "xlsx"))


def read_in_parts(query, row):
    """The rows of a list's download, read lazily: `row(record)` for each record of `query`,
    `EXPORT_CHUNK` records at a time, so that a list of 200,000 people never sits in memory
    as objects. The query runs when the rows are first asked for."""
    for record in db.session.scalars(query.execution_options(yield_per=EXPORT_CHUNK)):
        yield row(record)


def list_response(table, form, *, day=None):
    """A list page's rows (`table`) as a download, `form` "csv" or "xlsx", named after the
    table's title and the day: a header row, then the rows (no title above them)."""
    name = filename(table.title, day or _today(), form)
    if form == "csv":
        return _download(to_csv([table], titles=False), CSV_MIMETYPE, name)
    return _download(to_xlsx([table], title=table.title, titles=False), XLSX_MIMETYPE, name)


def vcard_response(text, stem, *, day=None):
    """vCards (`text`) as a `.vcf` download named after `stem` and the day."""
    return _download(text.encode("utf-8"), VCARD_MIMETYPE, filename(stem, day or _today(), "vcf"))
