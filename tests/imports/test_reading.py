"""Reading uploaded tables: the awkward files of issue 8 become header and rows, or a message
that names the problem."""

import io
import zipfile

import pytest
from openpyxl import Workbook

from crm.core.services import ValidationError
from crm.imports.reading import guess_mapping, read_table

BADGE_SCANNER = "Vorname;Nachname;Firma;E-Mail\r\nJürgen;Weiß;Jenoptik AG;jw@example.de\r\n"


def refusal(filename, data):
    with pytest.raises(ValidationError) as caught:
        read_table(filename, data)
    return str(caught.value.fields["file"][0])


@pytest.mark.parametrize(("data", "encoding"), [
    (BADGE_SCANNER.encode("utf-8"), "utf-8"),
    (b"\xef\xbb\xbf" + BADGE_SCANNER.encode("utf-8"), "utf-8-sig"),
    (BADGE_SCANNER.encode("cp1252"), "cp1252"),
])
def test_utf8_with_or_without_bom_and_windows_1252_are_read_alike(data, encoding):
    table = read_table("scanner.csv", data)
    assert table.encoding == encoding
    assert table.header == ["Vorname", "Nachname", "Firma", "E-Mail"]
    assert table.rows == [["Jürgen", "Weiß", "Jenoptik AG", "jw@example.de"]]


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_the_separator_is_detected(delimiter):
    text = delimiter.join(["Name", "Firma", "Ort"]) + "\n" + delimiter.join(
        ["Kim", '"Hanwha; Sensorik, GmbH"', "Seoul"]) + "\n"
    table = read_table("liste.txt", text.encode())
    assert table.delimiter == delimiter
    assert table.rows == [["Kim", "Hanwha; Sensorik, GmbH", "Seoul"]]


def test_quoted_line_breaks_ragged_rows_and_blank_lines_are_kept_as_they_are():
    text = ('Name;Notiz;Ort\n"Kim";"Zeile eins\nZeile zwei";Seoul\n\n;;\n'
            'Li;kurz\nWang;a;b;c;d\n')
    table = read_table("x.csv", text.encode())
    assert table.rows == [["Kim", "Zeile eins\nZeile zwei", "Seoul"], ["Li", "kurz"],
                          ["Wang", "a", "b", "c", "d"]]


def test_rows_are_numbered_as_in_the_file_blank_lines_and_line_breaks_counted():
    text = ('\n;;\nName;Notiz\n"Kim";"Zeile eins\nZeile zwei"\n\n\nLi;kurz\n')
    table = read_table("x.csv", text.encode())
    assert list(table.numbered()) == [(4, ["Kim", "Zeile eins\nZeile zwei"]),
                                      (7, ["Li", "kurz"])]


def test_a_workbooks_rows_are_numbered_as_excel_shows_them():
    workbook = Workbook()
    sheet = workbook.active
    sheet["B3"], sheet["C3"] = "Vorname", "Nachname"
    sheet["B4"], sheet["C4"] = "Anna", "Berg"
    sheet["B7"], sheet["C7"] = "Min-jung", "Kim"
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = read_table("liste.xlsx", buffer.getvalue())
    assert [(number, row[1:]) for number, row in table.numbered()] == [
        (4, ["Anna", "Berg"]), (7, ["Min-jung", "Kim"])]


def test_a_header_only_file_has_no_rows_and_duplicate_headers_stay():
    table = read_table("x.csv", b"Name;Name;E-Mail\r\n")
    assert table.header == ["Name", "Name", "E-Mail"] and table.rows == []


@pytest.mark.parametrize(("filename", "data", "message"), [
    ("leer.csv", b"", "leer"),
    ("leer.csv", b"\r\n \r\n;;;\r\n", "leer"),
    ("bild.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "keine Tabelle"),
    ("kaputt.csv", b"Name;Ort\r\nM\x81ller;\x8dErfurt\r\n", "Zeichenkodierung"),
    ("kaputt.xlsx", b"PK\x03\x04" + b"\x00" * 40, "Excel"),
    ("keine.xlsx", b"Name;Ort\r\n", "Excel"),
    ("offen.csv", b'Name;Notiz\r\nKim;"' + b"x" * 200_000 + b"\r\n", "Anführungszeichen"),
])
def test_files_that_are_no_table_are_refused_by_name(app, filename, data, message):
    assert message in refusal(filename, data)


def workbook_bytes(rows):
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_an_excel_workbook_is_read_from_its_first_sheet():
    data = workbook_bytes([["Vorname", "Nachname", "PLZ", None], ["민정", "김", 99084.0, None],
                           [None, None, None, None], ["Li", "Wang", None, None]])
    table = read_table("partner.xlsx", data)
    assert table.header == ["Vorname", "Nachname", "PLZ"]
    assert table.rows == [["민정", "김", "99084", ""], ["Li", "Wang", "", ""]]


def test_a_truncated_workbook_is_refused(app):
    data = workbook_bytes([["Name"], ["Kim"]])
    assert "Excel" in refusal("partner.xlsx", data[: len(data) // 2])


@pytest.mark.parametrize(("header", "expected"), [
    (["Vorname", "Nachname", "Firma", "E-Mail-Adresse", "Mobil"],
     {0: "first_name", 1: "last_name", 2: "organisation", 3: "email", 4: "mobile"}),
    (["First Name", "Last Name", "Company", "Email", "Job Title", "Phone"],
     {0: "first_name", 1: "last_name", 2: "organisation", 3: "email", 4: "position",
      5: "phone"}),
    (["E_MAIL", "Notiz", "Name", "Name"], {0: "email", 2: "last_name"}),
    (["Telefonnummer", "Land", "Stadt", "Schlagworte"],
     {0: "phone", 1: "country", 2: "city", 3: "tags"}),
])
def test_columns_are_mapped_from_german_and_english_names(header, expected):
    assert guess_mapping(header) == expected


def test_a_cell_an_export_kept_from_running_as_a_formula_is_read_as_written():
    table = read_table("x.csv", b"Name;Telefon;Notiz\r\nKim;'+49 361 1234;'Hallo\r\n")
    assert table.rows == [["Kim", "+49 361 1234", "'Hallo"]]


@pytest.mark.parametrize("member", ["xl/worksheets/sheet1.xml", "xl/workbook.xml"])
def test_a_workbook_whose_xml_is_damaged_is_refused(app, member):
    original = zipfile.ZipFile(io.BytesIO(workbook_bytes([["Name"], ["Kim"]])))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as damaged:
        for item in original.infolist():
            body = original.read(item)
            damaged.writestr(item, body[: len(body) // 2] if item.filename == member else body)
    assert "Excel" in refusal("partner.xlsx", buffer.getvalue())


def test_a_workbook_that_unpacks_to_gigabytes_is_refused_before_it_is_read(app):
    buffer = io.BytesIO(workbook_bytes([["Vorname", "Nachname"], ["Anna", "Berg"]]))
    with (zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED,
                          compresslevel=1) as workbook,
          workbook.open("xl/media/padding.bin", "w") as padding):
        for _ in range(310):
            padding.write(bytes(10**6))
    assert len(buffer.getvalue()) < 2 * 10**6
    assert "mehr als 300 MB" in refusal("bombe.xlsx", buffer.getvalue())


def test_a_workbook_without_a_worksheet_is_refused(app):
    from openpyxl import Workbook
    from openpyxl.chart import BarChart

    workbook = Workbook()
    chart_sheet = workbook.create_chartsheet()
    chart_sheet.add_chart(BarChart())
    workbook.remove(workbook.active)
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert "keine Tabelle" in refusal("chart.xlsx", buffer.getvalue())
