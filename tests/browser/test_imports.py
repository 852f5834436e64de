"""A fair's whole visitor list in the browser: checked and imported in the background while
a progress bar shows how far it is."""

import re

from playwright.sync_api import expect

from tests.browser.test_accessibility import assert_accessible
from tests.imports.test_jobs import ROWS, fair_list


def test_a_large_list_is_checked_and_imported_with_a_progress_bar(page, live_app, sign_in,
                                                                  tmp_path):
    visitors = tmp_path / "besucher-messe.csv"
    visitors.write_text(fair_list(), encoding="utf-8")
    sign_in()
    page.goto("/imports/new")
    page.get_by_label("CSV- oder Excel-Datei").set_input_files(visitors)
    page.get_by_role("button", name="Hochladen und prüfen").click()
    expect(page.get_by_text("im Hintergrund geprüft und importiert")).to_be_visible()

    page.get_by_role("button", name="Alle Zeilen mit diesen Spalten prüfen").click()
    expect(page.get_by_role("progressbar", name="Fortschritt")).to_be_visible()
    assert_accessible(page)
    expect(page.get_by_text("neu: 6.500")).to_be_visible(timeout=60_000)  # htmx reloaded it
    expect(page.get_by_role("progressbar")).to_have_count(0)

    page.get_by_role("button", name="Importieren").click()
    expect(page.get_by_role("progressbar", name="Fortschritt")).to_be_visible()
    done = page.get_by_role("status").filter(has_text="besucher-messe.csv")
    expect(done).to_contain_text(f"{ROWS} neu", timeout=60_000)
    expect(page).to_have_url(re.compile(r"/contacts$"))
