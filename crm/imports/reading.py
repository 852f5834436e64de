"""Reading the tables people bring back from a trip: a badge scanner's CSV, a partner's
spreadsheet, a list saved by German Excel. The first step of an import: the
file becomes a header and rows of text, or a message that names what is wrong with it."""

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from crm.core.services import ValidationError
from crm.core.text import search_key

# What a separator may be; German Excel writes `;`, others `,` or a tab.
DELIMITERS = ";,\t"
MAX_COLUMNS = 200
# The browser checks every row before the import, within a request: larger lists go through
# `flask crm import`.
MAX_BROWSER_ROWS = 5_000


@dataclass
class RawTable:
    """A file's header and rows as text; `delimiter` and `encoding` as detected (CSV only)."""

    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    delimiter: str | None = None
    encoding: str | None = None


def refuse(message):
    raise ValidationError(message, fields={"file": [message]})


def read_table(filename, data):
    """The table in `data` (the bytes of an uploaded file called `filename`): XLSX by its
    name or its content, else text with a separator. Raises `ValidationError` on "file"."""
    if not data.strip():
        refuse(_l("The file is empty."))
    if filename.lower().endswith((".xlsx", ".xlsm")) or data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data)
    return _read_text(data)


def _read_xlsx(data):
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        refuse(_l("This is not a readable Excel workbook (.xlsx); it may be damaged or cut "
                  "off. Save it again in Excel, or as CSV."))
    sheets = [sheet for sheet in workbook.worksheets if hasattr(sheet, "iter_rows")]
    if not sheets:
        workbook.close()
        refuse(_l("The workbook holds no table."))
    try:
        rows = [[_cell_text(value) for value in row]
                for row in sheets[0].iter_rows(values_only=True)]
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        refuse(_l("This is not a readable Excel workbook (.xlsx); it may be damaged or cut "
                  "off. Save it again in Excel, or as CSV."))
    finally:
        workbook.close()
    return _table(rows)


def _cell_text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a postcode or a number typed into a cell: 99084, not 99084.0
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d")
    return str(value).strip()


def _read_text(data):
    if b"\x00" in data:
        refuse(_l("This is not a table: the file holds binary data. Upload a CSV or XLSX "
                  "file."))
    text, encoding = _decode(data)
    delimiter = _delimiter(text)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error:
        refuse(_l("The file could not be read as a table (a quotation mark is not closed)."))
    table = _table([[_unquoted(cell.strip()) for cell in row] for row in rows])
    table.delimiter, table.encoding = delimiter, encoding
    return table


def _unquoted(cell):
    """A cell as written before an export kept it from being run as a formula (`'+49 361`
    was `+49 361`; see `crm.core.exports.neutralise`)."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in ("=", "+", "-", "@") else cell


def _decode(data):
    """UTF-8 (with or without BOM), else Windows-1252, the two encodings Excel writes."""
    if data.startswith(b"\xef\xbb\xbf"):
        encodings = ("utf-8-sig",)
    else:
        encodings = ("utf-8", "cp1252")
    for encoding in encodings:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    refuse(_l("The encoding of the file could not be recognised. Save it as CSV UTF-8."))


def _delimiter(text):
    """The separator of the header line: the one of `;`, `,` and tab it holds most of,
    outside quotes (a one-column file has none: `;`)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    outside = re.sub(r'"[^"]*"', "", first)
    counts = {d: outside.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ";"


def _table(rows):
    rows = [row for row in rows if any(cell for cell in row)]
    if not rows:
        refuse(_l("The file is empty."))
    header, body = rows[0], rows[1:]
    while header and not header[-1]:
        header = header[:-1]
    if not header:
        refuse(_l("The first line holds no column names."))
    if len(header) > MAX_COLUMNS:
        refuse(_l("The file has more than %(n)s columns; this is not a list of people.",
                  n=MAX_COLUMNS))
    return RawTable(header=header, rows=body)


# The column names of a badge scanner, a partner's spreadsheet or Excel, folded with
# `search_key`, and the contact field each one means.
HEADER_NAMES = {
    "first_name": ("vorname", "first name", "firstname", "given name", "forename"),
    "last_name": ("nachname", "familienname", "last name", "lastname", "surname",
                  "family name", "name"),
    "email": ("e mail", "email", "e mail adresse", "email address", "mail", "e mail address"),
    "phone": ("telefon", "tel", "phone", "telephone", "phone number", "telefonnummer",
              "business phone", "work phone"),
    "mobile": ("mobil", "mobiltelefon", "handy", "mobile", "mobile phone", "cell",
               "cell phone"),
    "organisation": ("firma", "unternehmen", "organisation", "organization", "company",
                     "institution", "company name", "firmenname"),
    "position": ("position", "funktion", "job title", "jobtitle", "role", "rolle"),
    "academic_title": ("titel", "akademischer titel", "title", "anrede titel"),
    "city": ("ort", "stadt", "city", "town"),
    "country": ("land", "country"),
    "language": ("sprache", "language"),
    "tags": ("schlagworte", "tags", "stichworte", "kategorie", "category"),
}


def _folded(header):
    """`E-Mail-Adresse`, `e_mail_adresse` and `E-MAIL ADRESSE` alike: `e mail adresse`."""
    return " ".join(re.sub(r"[\W_]+", " ", search_key(header)).split())


_FIELD_OF = {_folded(name): field for field, names in HEADER_NAMES.items() for name in names}


def guess_mapping(header):
    """{column index: contact field} for the columns whose names say what they hold, each
    field at most once (the first such column); the others are left for the user to map."""
    mapping, taken = {}, set()
    for index, name in enumerate(header):
        field_name = _FIELD_OF.get(_folded(name))
        if field_name and field_name not in taken:
            mapping[index] = field_name
            taken.add(field_name)
    return mapping
