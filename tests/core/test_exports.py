"""Report exports: CSV for German Excel and XLSX workbooks, safe against formula injection."""

import csv
import datetime
import io
import re
import zipfile
from decimal import Decimal

import pytest
from flask_babel import lazy_gettext
from openpyxl import load_workbook
from openpyxl.workbook.child import INVALID_TITLE_REGEX

from crm.core.exports import (
    CSV_MIMETYPE,
    XLSX_MIMETYPE,
    csv_response,
    filename,
    sheet_title,
    to_csv,
    to_xlsx,
    xlsx_response,
)
from crm.core.tables import KINDS, Column, Table

DAY = datetime.date(2026, 3, 5)
HOSTILE = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tx", "\rx"]


def results_table(**overrides):
    """Results by sector: every kind of column, a None cell and names in three scripts."""
    values = {
        "key": "results_by_sector",
        "title": "Ergebnisse nach Branche",
        "columns": [
            Column("sector", "Branche"),
            Column("leads", "Projekte", "count"),
            Column("investment", "Investition", "eur"),
            Column("won", "Gewonnen", "share"),
            Column("duration", "Dauer", "days"),
            Column("since", "Seit", "date"),
        ],
        "rows": [
            {"sector": "Müller Optik", "leads": 12, "investment": 1250000, "won": 0.125,
             "duration": 42.25, "since": DAY, "_links": {"sector": "/organisations/1"}},
            {"sector": "현대", "leads": 3, "investment": Decimal("7500000.40"), "won": 1 / 3,
             "duration": 7.0, "since": datetime.date(2025, 12, 31)},
            {"sector": "上海", "leads": 0, "investment": None, "won": None, "duration": None,
             "since": None},
        ],
    }
    return Table(**(values | overrides))


def hostile_table():
    """A table whose title, label and every text cell would be a formula if left alone."""
    return Table(
        key="hostile",
        title="=1+1",
        columns=[Column("name", "@label"), Column("count", "Anzahl", "count")],
        rows=[{"name": text, "count": -5} for text in HOSTILE],
    )


def read_csv(data):
    assert data.startswith(b"\xef\xbb\xbf"), "the BOM tells Excel the file is UTF-8"
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline=""), delimiter=";"))


def read_xlsx(data):
    return load_workbook(io.BytesIO(data))


def test_csv_writes_title_header_rows_and_an_empty_line_per_table():
    rows = read_csv(to_csv([results_table(), results_table(key="second", title="Zweite")]))

    assert rows[0] == ["Ergebnisse nach Branche"]
    assert rows[1] == ["Branche", "Projekte", "Investition", "Gewonnen (%)", "Dauer", "Seit"]
    assert rows[2] == ["Müller Optik", "12", "1250000", "12,5", "42,3", "05.03.2026"]
    assert rows[3] == ["현대", "3", "7500000", "33,3", "7,0", "31.12.2025"]
    assert rows[4] == ["上海", "0", "", "", "", ""]
    assert rows[5] == []
    assert rows[6] == ["Zweite"]
    assert len(rows) == 12


def test_csv_uses_crlf_line_ends_and_semicolons():
    text = to_csv([results_table()]).decode("utf-8-sig")

    assert text.startswith("Ergebnisse nach Branche\r\nBranche;Projekte;")
    assert "\n" not in text.replace("\r\n", "")


def test_csv_numbers_round_half_up_and_never_show_minus_zero():
    table = Table("t", "T", [Column("a", "A", "eur"), Column("b", "B", "share"),
                             Column("c", "C", "days")],
                  [{"a": 2.5, "b": 0.0005, "c": -0.04}, {"a": -1.4, "b": -0.0004, "c": 1.05}])

    assert read_csv(to_csv([table]))[2:4] == [["3", "0,1", "0,0"], ["-1", "0,0", "1,1"]]


@pytest.mark.parametrize("text", HOSTILE)
def test_csv_neutralises_text_a_spreadsheet_would_run_as_a_formula(text):
    rows = read_csv(to_csv([hostile_table()]))

    assert rows[0] == ["'=1+1"]
    assert rows[1] == ["'@label", "Anzahl"]
    assert ["'" + text, "-5"] in rows[2:], "text is neutralised, numbers we format are not"


def test_csv_of_no_tables_is_just_the_bom():
    assert to_csv([]) == b"\xef\xbb\xbf"


def test_xlsx_has_one_sheet_per_table_with_bold_title_and_header():
    book = read_xlsx(to_xlsx([results_table()], title="Ergebnisse 2026"))

    assert book.sheetnames == ["Ergebnisse nach Branche"]
    assert book.properties.title == "Ergebnisse 2026"
    sheet = book.active
    assert sheet["A1"].value == "Ergebnisse nach Branche"
    assert sheet["A1"].font.bold
    assert [cell.value for cell in sheet[2]] == [
        "Branche", "Projekte", "Investition", "Gewonnen", "Dauer", "Seit"]
    assert all(cell.font.bold for cell in sheet[2])
    assert [cell.value for cell in sheet["A"][2:]] == ["Müller Optik", "현대", "上海"]
    assert sheet.column_dimensions["A"].width >= len("Müller Optik")


def test_xlsx_stores_numbers_and_dates_with_number_formats():
    sheet = read_xlsx(to_xlsx([results_table()], title="Ergebnisse")).active

    first = {cell.column_letter: cell for cell in sheet[3]}
    assert (first["B"].value, first["B"].number_format) == (12, "#,##0")
    assert (first["C"].value, first["C"].number_format) == (1250000, '#,##0 "€"')
    assert (first["D"].value, first["D"].number_format) == (0.125, "0.0%")
    assert (first["E"].value, first["E"].number_format) == (42.25, "0.0")
    assert first["F"].number_format == "DD.MM.YYYY"
    assert first["F"].value.date() == DAY  # openpyxl reads dates back as datetimes
    assert sheet["C4"].value == pytest.approx(7500000.4)
    assert all(cell.data_type == "n" for cell in sheet[3][1:5])


def test_xlsx_leaves_none_cells_empty():
    sheet = read_xlsx(to_xlsx([results_table()], title="Ergebnisse")).active

    assert [cell.value for cell in sheet[5]] == ["上海", 0, None, None, None, None]


@pytest.mark.parametrize("text", HOSTILE)
def test_xlsx_stores_hostile_text_as_quoted_strings_never_formulas(text):
    sheet = read_xlsx(to_xlsx([hostile_table()], title="=cmd")).active

    cells = [row[0] for row in sheet.iter_rows(min_row=3)]
    cell = cells[HOSTILE.index(text)]
    # The text is kept as written (lxml writes a carriage return as a character reference,
    # so it is not read back as a line feed), stored as a string, with Excel's quote prefix.
    assert cell.value == text
    assert cell.data_type == "s" and cell.quotePrefix
    for ref, expected in (("A1", "=1+1"), ("A2", "@label")):
        assert (sheet[ref].value, sheet[ref].data_type, sheet[ref].quotePrefix) == \
            (expected, "s", True)
    assert [row[1].value for row in sheet.iter_rows(min_row=3)] == [-5] * len(HOSTILE)


def test_xlsx_file_contains_no_formula_element():
    with zipfile.ZipFile(io.BytesIO(to_xlsx([hostile_table()], title="T"))) as archive:
        sheets = [name for name in archive.namelist() if name.startswith("xl/worksheets/")]
        assert sheets
        assert not any(b"<f>" in archive.read(name) or b"<f " in archive.read(name)
                       for name in sheets)


def test_xlsx_keeps_text_that_looks_like_an_error_code_as_text():
    table = Table("t", "T", [Column("a", "A")], [{"a": "#N/A"}, {"a": 42}])
    sheet = read_xlsx(to_xlsx([table], title="T")).active

    assert (sheet["A3"].value, sheet["A3"].data_type) == ("#N/A", "s")
    assert not sheet["A3"].quotePrefix, "only text that reads as a formula is marked"
    assert (sheet["A4"].value, sheet["A4"].data_type) == ("42", "s")


def test_xlsx_drops_control_characters_a_worksheet_cannot_hold():
    table = Table("t", "T", [Column("a", "A")], [{"a": "\x01=Evil\x07"}])
    sheet = read_xlsx(to_xlsx([table], title="T")).active

    assert (sheet["A3"].value, sheet["A3"].quotePrefix) == ("=Evil", True)


def test_xlsx_sheet_titles_are_valid_and_unique():
    long_title = "Ergebnisse nach Branche und Herkunftsland der Investoren"
    tables = [
        results_table(key="one", title=long_title),
        results_table(key="two", title=long_title),
        results_table(key="three", title="ergebnisse nach branche und herkunftsland der inv"),
        results_table(key="four", title="Q1/Q2: [Plan] *vs* Ist?\\"),
        results_table(key="five", title="'''"),
        results_table(key="six", title="History"),
    ]
    book = read_xlsx(to_xlsx(tables, title="Ergebnisse"))

    names = book.sheetnames
    assert len(names) == len(tables)
    assert len({name.casefold() for name in names}) == len(names)
    for name in names:
        assert 0 < len(name) <= 31
        assert not INVALID_TITLE_REGEX.search(name)
        assert not name.startswith("'") and not name.endswith("'")
    assert names[0] == long_title[:31].rstrip()
    assert names[1].endswith(" (2)")
    assert names[2].endswith(" (3)")
    assert names[3] == "Q1 Q2 Plan vs Ist"
    assert names[4] == "five"
    assert names[5] == "History (2)"
    # The full title is still there, in A1.
    assert book[names[1]]["A1"].value == long_title


def test_sheet_title_of_empty_text_falls_back():
    assert sheet_title("  ", set()) == "Tabelle"


def test_xlsx_of_no_tables_is_a_valid_workbook():
    book = read_xlsx(to_xlsx([], title="Leerer Bericht"))

    assert book.sheetnames == ["Leerer Bericht"]


@pytest.mark.parametrize(("stem", "extension", "expected"), [
    ("ergebnisse", "csv", "lotse-ergebnisse-2026-03-05.csv"),
    ("Ergebnisse nach Größe", ".xlsx", "lotse-ergebnisse-nach-groesse-2026-03-05.xlsx"),
    ("Übersicht / Äpfel & Öl", "csv", "lotse-uebersicht-aepfel-oel-2026-03-05.csv"),
    ("Café Señor", "csv", "lotse-cafe-senor-2026-03-05.csv"),
    ("上海", "csv", "lotse-2026-03-05.csv"),
])
def test_filename_is_ascii_with_umlauts_spelt_out(stem, extension, expected):
    assert filename(stem, DAY, extension) == expected


def test_column_refuses_an_unknown_kind():
    assert "share" in KINDS
    with pytest.raises(ValueError):
        Column("a", "A", "percent")


def test_csv_response_is_an_uncached_attachment():
    response = csv_response([results_table()], "Ergebnisse", day=DAY)

    assert response.content_type == CSV_MIMETYPE == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=lotse-ergebnisse-2026-03-05.csv")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_data() == to_csv([results_table()])


def test_xlsx_response_is_an_uncached_attachment():
    response = xlsx_response([results_table()], "ergebnisse", "Ergebnisse", day=DAY)

    assert response.content_type == XLSX_MIMETYPE
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=lotse-ergebnisse-2026-03-05.xlsx")
    assert response.headers["Cache-Control"] == "no-store"
    assert read_xlsx(response.get_data()).active["A1"].value == "Ergebnisse nach Branche"


def test_responses_are_named_after_today_in_a_request(app):
    with app.test_request_context("/reports"):
        response = csv_response([], "pipeline")

    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(r"attachment; filename=lotse-pipeline-\d{4}-\d{2}-\d{2}\.csv", disposition)


def test_lazy_translated_titles_and_labels_are_exported_as_text(app):
    with app.test_request_context("/reports"):
        title, label, name = lazy_gettext("Reports"), lazy_gettext("Name"), lazy_gettext("Export")
        table = Table("t", title, [Column("a", label)], [{"a": "x"}])
        rows = read_csv(to_csv([table]))
        book = read_xlsx(to_xlsx([table], title=name))
        expected = [str(title), str(label), str(name)]

    assert rows[:2] == [[expected[0]], [expected[1]]]
    assert book.sheetnames == [expected[0]]
    assert book.properties.title == expected[2]
