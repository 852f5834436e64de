"""Reading the tables people bring back from a trip: a badge scanner's CSV, a partner's
spreadsheet, a list saved by German Excel, the business cards a phone or a card-scanning app
exports as vCards. The first step of an import: the file becomes a header and rows of text,
or a message that names what is wrong with it."""

import csv
import io
import quopri
import re
import zipfile
from dataclasses import dataclass, field

import vobject
from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from crm.core.services import ValidationError
from crm.core.text import search_key

# What a separator may be; German Excel writes `;`, others `,` or a tab.
DELIMITERS = ";,\t"
MAX_COLUMNS = 200
# The most rows a file in the browser may have (more than any list of people; larger files
# go through `flask crm import`); from 5,000 rows on, they are checked and imported in the
# background (`crm.imports.jobs`).
MAX_BROWSER_ROWS = 200_000
# What an XLSX file (a zip) may unpack to: 100,000 rows of a list take some 60 MB; a "zip
# bomb" of a few kilobytes would unpack to gigabytes.
MAX_UNPACKED_BYTES = 300 * 10**6


@dataclass
class RawTable:
    """A file's header and rows as text; `delimiter` and `encoding` as detected (CSV only)."""

    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    delimiter: str | None = None
    encoding: str | None = None
    # The number of each row in the file as a spreadsheet counts them, blank lines included
    # (empty: the rows follow the header in row 1 without a gap, as vCards do).
    numbers: list[int] = field(default_factory=list)

    def numbered(self):
        """`(number, row)` of each row, numbered as the file's own rows."""
        return zip(self.numbers or range(2, len(self.rows) + 2), self.rows, strict=True)


def refuse(message):
    raise ValidationError(message, fields={"file": [message]})


def read_table(filename, data):
    """The table in `data` (the bytes of an uploaded file called `filename`): vCards or XLSX
    by the name or the content, else text with a separator. Raises `ValidationError` on
    "file"."""
    if not data.strip():
        refuse(_l("The file is empty."))
    if filename.lower().endswith((".vcf", ".vcard")) or _VCARD_START.match(data):
        return _read_vcards(data)
    if filename.lower().endswith((".xlsx", ".xlsm")) or data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data)
    return _read_text(data)


def _read_xlsx(data):
    try:
        unpacked = sum(member.file_size for member in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        unpacked = 0  # not a zip at all: openpyxl says so below
    if unpacked > MAX_UNPACKED_BYTES:
        refuse(_l("This workbook unpacks to more than %(n)s MB, more than a list of people "
                  "can be. Save it as CSV, or split it.", n=MAX_UNPACKED_BYTES // 10**6))
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError,
            SyntaxError):  # SyntaxError: XML that does not parse (ElementTree's, lxml's)
        refuse(_l("This is not a readable Excel workbook (.xlsx); it may be damaged or cut "
                  "off. Save it again in Excel, or as CSV."))
    sheets = [sheet for sheet in workbook.worksheets if hasattr(sheet, "iter_rows")]
    if not sheets:
        workbook.close()
        refuse(_l("The workbook holds no table."))
    try:
        rows = [[_cell_text(value) for value in row]
                for row in sheets[0].iter_rows(min_row=1, values_only=True)]
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, SyntaxError):
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
    kept = [(number, row) for number, row in enumerate(rows, start=1) if any(row)]
    if not kept:
        refuse(_l("The file is empty."))
    header, body = kept[0][1], [row for _, row in kept[1:]]
    while header and not header[-1]:
        header = header[:-1]
    if not header:
        refuse(_l("The first line holds no column names."))
    if len(header) > MAX_COLUMNS:
        refuse(_l("The file has more than %(n)s columns; this is not a list of people.",
                  n=MAX_COLUMNS))
    return RawTable(header=header, rows=body, numbers=[number for number, _ in kept[1:]])


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


# vCards: each card a row, in these columns (which `guess_mapping` maps to these fields).
VCARD_COLUMNS = {
    "academic_title": "Titel", "first_name": "Vorname", "last_name": "Nachname",
    "email": "E-Mail", "phone": "Telefon", "mobile": "Mobil", "organisation": "Firma",
    "position": "Position", "city": "Ort", "country": "Land", "tags": "Schlagworte",
}
_VCARD_START = re.compile(rb"(?:\xef\xbb\xbf)?\s*BEGIN:VCARD\b", re.IGNORECASE)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_FOLD = re.compile(rb"(?:\r\n|\r|\n)[ \t]")
# Each line of a text, without its line break (the last one, after the last break, empty).
_LINE = re.compile(r"([^\r\n]*)(?:\r\n|\r|\n|\Z)")
_PROPERTY = re.compile(r"[^:;]*")
# Binary content, often megabytes of it, that a contact has no place for: never decoded.
_IGNORED_PROPERTIES = {"PHOTO", "LOGO", "SOUND", "KEY"}
# The properties with one text, which vobject cuts at the first unescaped comma.
_SINGLE_TEXTS = {"FN", "TITLE", "ROLE", "EMAIL", "TEL"}
# What comes before a property's value: its name and parameters (which may be quoted).
_VALUE_START = re.compile(r'(?:[^":]|"[^"]*")*:')
_ESCAPE_OR_COMMA = re.compile(r"(\\.)|,")
# The academic part of a name prefix ("Herr Prof. Dr." -> "Prof. Dr."); "Herr", "Mr." are not.
_ACADEMIC_TITLE = re.compile(r"(?<!\w)(?:Prof|Dr|Dipl|Mag|Priv|PD|Ing)\b.*", re.IGNORECASE)


def _read_vcards(data):
    """One row per card of a vCard file (2.1, 3.0 or 4.0, one card or many), or a refusal
    that names the card and the line that cannot be read."""
    text, encoding = _vcard_text(data)
    if not text.strip():
        refuse(_l("The file is empty."))
    if not re.match(r"\s*BEGIN:VCARD\b", text, re.IGNORECASE):
        refuse(_l("This is not a vCard file: it does not begin with BEGIN:VCARD."))
    rows = [_card_row(_parsed_card(number, lines))
            for number, lines in enumerate(_cards(text), start=1)]
    return RawTable(header=list(VCARD_COLUMNS.values()), rows=rows, encoding=encoding)


def _vcard_text(data):
    """The text of a vCard file and its encoding: UTF-8 (with or without BOM), else
    Windows-1252. Some exporters fold lines after 75 bytes, within a character: a file that
    is UTF-8 once unfolded is unfolded first."""
    encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8"), encoding
    except UnicodeDecodeError:
        pass
    try:
        return _FOLD.sub(b"", data).decode("utf-8"), encoding
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        refuse(_l("The encoding of the vCard file could not be recognised. Export it again "
                  "as UTF-8."))


def _logical_lines(text):
    """(line number, text) of each logical line: a line folded onto the next ones (which
    begin with a space or tab) joined up again, and so is a quoted-printable value (vCard
    2.1) broken by `=` at the end of a line; blank lines are left out. Of a photo (or
    another ignored property) only the first line is kept: megabytes of base64 are never
    put together, and lines of it that some 2.1 exporters do not indent are passed over."""
    start, parts, soft_break, ignored = 0, [], False, False
    for number, match in enumerate(_LINE.finditer(text), start=1):
        line = match.group(1)
        if soft_break:
            parts[-1] = parts[-1][:-1]
            parts.append(line)
        elif parts and (line[:1] in (" ", "\t") or ignored and ":" not in line):
            if not ignored:
                parts.append(line[1:])
        else:
            if parts:
                yield start, "".join(parts)
            start, parts = number, [line] if line.strip() else []
            ignored = bool(parts) and _property_name(line) in _IGNORED_PROPERTIES
        soft_break = bool(parts) and parts[-1].endswith("=") and _is_quoted_printable(parts[0])
    if parts:
        yield start, "".join(parts)


def _cards(text):
    """The logical lines of each card in turn, BEGIN and END included (a card within a card,
    as vCard 2.1 allows for an AGENT, stays within it). Refuses a line outside any card and
    a card that is not closed."""
    card, depth, count = [], 0, 0
    for number, line in _logical_lines(text):
        marker = line.strip().upper()
        if marker == "BEGIN:VCARD":
            depth += 1
        elif depth == 0:
            refuse(_l("Line %(line)s is outside any card.", line=number))
        card.append((number, line))
        if marker == "END:VCARD":
            depth -= 1
            if depth == 0:
                count += 1
                yield card
                card = []
    if depth:
        refuse(_l("Card %(n)s is not closed: END:VCARD is missing.", n=count + 1))


def _parsed_card(number, lines):
    """Card `number` read by vobject, from its logical lines: photos and the like left out,
    quoted-printable values decoded and commas in single texts escaped beforehand."""
    kept = []
    for line_number, line in lines:
        name = _property_name(line)
        if name in _IGNORED_PROPERTIES:
            continue
        if _is_quoted_printable(line):
            line = _unquoted_printable(line)
            if line is None:
                refuse(_l("Card %(n)s cannot be read: line %(line)s is damaged.", n=number,
                          line=line_number))
        if name in _SINGLE_TEXTS:
            line = _with_commas_escaped(line)
        kept.append((line_number, line))
    try:
        return vobject.readOne("\n".join(line for _, line in kept))
    # ValueError covers bad base64 and bad quoted-printable; TypeError is vobject's trouble
    # with parameters such as ENCODING=QUOTED-PRINTABLE;ENCODING=X.
    except (vobject.base.VObjectError, ValueError, TypeError):
        refuse(_damaged(number, kept))


def _damaged(number, lines):
    """Why card `number` cannot be read: the first of its lines vobject cannot parse, if the
    trouble is one line."""
    for line_number, line in lines:
        try:
            vobject.base.parseLine(line)
        except vobject.base.ParseError:
            return _l("Card %(n)s cannot be read: line %(line)s is damaged.", n=number,
                      line=line_number)
    return _l("Card %(n)s cannot be read.", n=number)


def _property_name(line):
    """`TEL` of `item1.tel;type=CELL:+49 171 1234567` (read without copying a photo's data)."""
    return _PROPERTY.match(line).group().rsplit(".", 1)[-1].strip().upper()


def _is_quoted_printable(line):
    return "QUOTED-PRINTABLE" in line.partition(":")[0].upper()


def _with_commas_escaped(line):
    """`TITLE:Head of Sales, Asia` as vCard 3.0 wants it, `Head of Sales\\, Asia`: vobject
    keeps only what comes before an unescaped comma in a single text, and vCard 2.1 and many
    exporters do not escape commas."""
    head = _VALUE_START.match(line)
    if head is None:
        return line  # no value: vobject refuses the line
    value = _ESCAPE_OR_COMMA.sub(lambda match: match.group(1) or "\\,", line[head.end():])
    return line[:head.end()] + value


def _unquoted_printable(line):
    """A quoted-printable line (vCard 2.1) decoded as its CHARSET says, else as UTF-8, else
    Windows-1252, and written as a plain line; None if it cannot be decoded. (vobject would
    decode it too, but as UTF-8 when no CHARSET is given, as older Outlook writes it, and
    fails on an unknown CHARSET.)"""
    head, _, value = line.partition(":")
    name, *parameters = head.split(";")
    charsets = [p.split("=", 1)[1] for p in parameters if p.upper().startswith("CHARSET=")]
    kept = [p for p in parameters if p.upper() not in ("ENCODING=QUOTED-PRINTABLE",
                                                       "QUOTED-PRINTABLE")
            and not p.upper().startswith("CHARSET=")]
    raw = quopri.decodestring(value.encode("utf-8"))
    for encoding in (*charsets, "utf-8", "cp1252"):
        try:
            decoded = raw.decode(encoding)
        except (LookupError, ValueError):  # an unknown charset, or not in it
            continue
        return ";".join([name, *kept]) + ":" + _LINE_BREAK.sub(r"\\n", decoded)
    return None


def _card_row(card):
    """A card's values in the order of `VCARD_COLUMNS`."""
    phones = [line for line in card.contents.get("tel", [])
              if not _types(line) & {"FAX", "PAGER"}]
    mobiles = [line for line in phones if _types(line) & {"CELL", "MOBILE"}]
    others = [line for line in phones if not _types(line) & {"CELL", "MOBILE"}]
    address = _preferred(card.contents.get("adr", []))
    address = address.value if address is not None else None
    has_address = isinstance(address, vobject.vcard.Address)
    organisation = _value(card, "org")
    organisation = _text(organisation[:1] if isinstance(organisation, list) else organisation,
                         ", ")  # "Müller, Meier & Co" is a list to vobject
    values = {
        **_names(card, organisation),
        "email": _number_or_address(_preferred(card.contents.get("email", []))),
        "phone": _number_or_address(_preferred(others)),
        "mobile": _number_or_address(mobiles[0] if mobiles else None),
        "organisation": organisation,
        "position": _text(_value(card, "title")) or _text(_value(card, "role")),
        "city": _text(address.city, ", ") if has_address else "",
        "country": _text(address.country, ", ") if has_address else "",
        "tags": _text([line.value for line in card.contents.get("categories", [])], ", "),
    }
    return [values[name] for name in VCARD_COLUMNS]


def _names(card, organisation):
    """First and last name and an academic title from N; else from FN (its last word the
    last name, or what comes before a comma as in "Weiß, Jürgen"; abbreviations before the
    name the title), unless FN is the organisation's name, as on a company's card."""
    name = _value(card, "n")
    if isinstance(name, vobject.vcard.Name) and (_text(name.family) or _text(name.given)):
        return {"first_name": _text([name.given, name.additional]),
                "last_name": _text(name.family),
                "academic_title": _academic_title(_text(name.prefix))}
    written = _text(_value(card, "fn"))
    if written == organisation:
        written = ""
    if "," in written:
        last, _, first = written.partition(",")
        words, last = first.split(), last.strip()
    else:
        words = written.split()
        last = words.pop() if words else ""
    prefix = []
    while words and words[0].endswith("."):
        prefix.append(words.pop(0))
    return {"first_name": " ".join(words), "last_name": last,
            "academic_title": _academic_title(" ".join(prefix))}


def _academic_title(prefix):
    match = _ACADEMIC_TITLE.search(prefix)
    return match.group() if match else ""


def _types(line):
    """A property's types in capitals, however written: `TYPE=work,voice`, `TYPE="cell,voice"`
    (4.0), `TEL;CELL` (2.1); a PREF parameter (4.0) counts as the type PREF."""
    written = [*line.params.get("TYPE", []), *line.singletonparams]
    types = {kind.strip().upper() for value in written for kind in value.split(",")}
    if "PREF" in line.params:
        types.add("PREF")
    return types


def _preferred(lines):
    """The first of `lines` marked as for work or preferred, else the first (or None)."""
    return next((line for line in lines if _types(line) & {"WORK", "PREF"}),
                lines[0] if lines else None)


def _number_or_address(line):
    """A phone number or email address without the `tel:` or `mailto:` of vCard 4.0."""
    text = _text(line.value) if line is not None else ""
    return re.sub(r"^(?:tel|mailto):", "", text, flags=re.IGNORECASE)


def _value(card, name):
    lines = card.contents.get(name, [])
    return lines[0].value if lines else ""


def _text(value, separator=" "):
    """A value, or its parts (a list) joined, as one line of text; bytes (what was encoded
    in base64) are none."""
    if isinstance(value, (list, tuple)):
        return separator.join(text for text in (_text(v, separator) for v in value) if text)
    return " ".join(value.split()) if isinstance(value, str) else ""
