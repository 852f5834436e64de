"""German first, English by choice: every text translated, formats in the user's locale."""

import re
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale

from crm.core.formatting import format_day, format_eur, format_moment, format_number

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "crm" / "translations" / "de" / "LC_MESSAGES" / "messages.po"


def extracted_messages(tmp_path):
    """Every translatable text in the code and templates, as pybabel extracts it."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [str(Path(sys.executable).parent / "pybabel"), "extract", "--mapping", "babel.cfg",
         "--keywords", "_l", "--ignore-dirs", ".* node_modules __pycache__ tests",
         "--output", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with pot.open("rb") as f:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}


def test_every_text_has_a_german_translation(tmp_path):
    with CATALOG.open("rb") as f:
        catalog = read_po(f, locale="de")
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and not m.fuzzy and all(m.string if isinstance(m.string, tuple) else [m.string])
    }
    missing = extracted_messages(tmp_path) - translated
    assert not missing, f"untranslated (run `make messages`, then translate): {sorted(missing)}"


def test_the_catalog_keeps_every_placeholder():
    with CATALOG.open("rb") as f:
        catalog = read_po(f, locale="de")
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        placeholders = {p for text in ids for p in _placeholders(text)}
        for text in strings:
            assert _placeholders(text) == placeholders, message.id


def _placeholders(text):
    return set(re.findall(r"%\(\w+\)[sd]", text))


@pytest.mark.parametrize(("locale", "day", "moment", "euros", "number"), [
    ("de", "21.11.2026", "21.11.2026, 23:05", "1.234.567\xa0€", "1.234.567"),
    ("en", "Nov 21, 2026", "Nov 21, 2026, 11:05\u202fPM", "€1,234,567", "1,234,567"),
])
def test_dates_and_euros_follow_the_locale(app, locale, day, moment, euros, number):
    with app.test_request_context(), force_locale(locale):
        assert format_day(date(2026, 11, 21)) == day
        # 22:05 UTC is 23:05 in Erfurt in November.
        assert format_moment(datetime(2026, 11, 21, 22, 5, tzinfo=UTC)) == moment
        assert format_eur(1234567) == euros
        assert format_number(1234567) == number
        assert format_eur(None) == format_day(None) == ""


def test_form_validation_messages_are_german(client):
    html = client.post("/login", data={}).get_data(as_text=True)
    assert "Dieses Feld wird benötigt." in html
