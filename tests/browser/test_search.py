"""Finding people: from the search box in the navigation as one types, on the search page, and
after importing a badge scanner's list from the Seoul business breakfast."""

import re

from playwright.sync_api import expect

from tests.browser.test_accessibility import assert_accessible
from tests.factories import make_contact, make_event, make_lead, make_organisation


def test_the_box_in_the_navigation_suggests_as_one_types(page, live_app, sign_in):
    with live_app.app_context():
        jenoptik = make_organisation(name="Jenoptik AG", city="Jena")
        contact = make_contact(first_name="Jürgen", last_name="Müller", organisation=jenoptik)
        make_lead(title="Müller-Erweiterung Jena", organisation=jenoptik)
        contact_id = contact.id
    sign_in()
    page.wait_for_load_state()  # the scripts that know the shortcut
    page.keyboard.press("/")
    box = page.get_by_role("searchbox", name="Suche")
    expect(box).to_be_focused()
    box.press_sequentially("mueller")
    suggestions = page.locator("#site-search-suggestions")
    expect(suggestions.get_by_role("heading", name="Kontakte")).to_be_visible()
    expect(suggestions.get_by_role("heading", name="Leads")).to_be_visible()
    assert_accessible(page)
    page.keyboard.press("ArrowDown")
    expect(suggestions.get_by_role("link", name=re.compile("Jürgen Müller"))).to_be_focused()
    page.keyboard.press("Escape")
    expect(suggestions.get_by_role("link")).to_have_count(0)
    expect(box).to_be_focused()
    box.fill("")
    box.press_sequentially("MULLER jur")
    suggestions.get_by_role("link", name=re.compile("Jürgen Müller")).click()
    expect(page).to_have_url(re.compile(rf"/contacts/{contact_id}$"))


def test_the_search_page_shows_results_as_one_types(page, live_app, sign_in):
    with live_app.app_context():
        make_organisation(name="Thüringer Aufbaubank", kind="partner", city="Erfurt")
        make_contact(first_name="민준", last_name="김", latin_name="Kim Min-jun")
        make_event(name="Business Breakfast Seoul", starts_on="2025-05-20", city="Seoul")
    sign_in()
    page.goto("/search")
    field = page.get_by_role("searchbox", name="Suchbegriff")
    field.press_sequentially("thuring")
    results = page.locator("#search-results")
    expect(results.get_by_role("link", name="Thüringer Aufbaubank")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/search\?q=thuring$"))
    field.fill("민준")
    expect(results.get_by_role("link", name="김민준")).to_be_visible()
    expect(results.get_by_role("link", name="Thüringer Aufbaubank")).to_have_count(0)
    field.fill("seoul")
    expect(results.get_by_role("heading", name="Veranstaltungen")).to_be_visible()
    assert_accessible(page)
    field.fill("Schulze")
    expect(results).to_contain_text("Nichts passt zu „Schulze“.")


BADGE_SCAN = (
    "Vorname;Nachname;E-Mail;Firma;Job;Scan-Zeit\r\n"
    "Jürgen;Müller;j.mueller@jenoptik.example;Jenoptik AG;Head of Sales;2025-05-20 08:14\r\n"
    "민정;김;mj.kim@example.kr;Hyundai Mobis;Director;2025-05-20 08:21\r\n"
    "Ji-ho;Park;jiho.park@example.kr;LG Innotek;Manager;2025-05-20 08:40\r\n"
)


def test_a_badge_scan_is_imported_into_the_seoul_breakfast_and_found(page, live_app, sign_in,
                                                                       tmp_path):
    with live_app.app_context():
        breakfast = make_event(name="Business Breakfast Seoul", starts_on="2025-05-20",
                               city="Seoul", country="KR")
        breakfast_id = breakfast.id
    scan = tmp_path / "badge-scan-seoul.csv"
    scan.write_bytes(BADGE_SCAN.encode("utf-8-sig"))
    sign_in()
    page.goto(f"/imports/new?event={breakfast_id}")
    page.get_by_label("CSV- oder Excel-Datei").set_input_files(scan)
    expect(page.get_by_label("Alle bei dieser Veranstaltung erfassen")).to_have_value(
        str(breakfast_id))
    page.get_by_role("button", name="Hochladen und prüfen").click()

    # "Job" is not a column name the import knows: it is chosen by hand.
    expect(page.get_by_label("Job")).to_have_value("")
    expect(page.get_by_label("Firma")).to_have_value("organisation")
    page.get_by_label("Job").select_option(label="Position")
    page.get_by_role("button", name="Mit diesen Spalten neu prüfen").click()
    expect(page.get_by_label("Job")).to_have_value("position")
    expect(page.get_by_text("neu: 3")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Importieren").click()
    expect(page.get_by_role("status").filter(has_text="badge-scan-seoul.csv")).to_be_visible()

    box = page.get_by_role("search").first.get_by_role("searchbox")  # the one in the navigation
    box.press_sequentially("Muller")
    box.press("Enter")
    results = page.locator("#search-results")
    results.get_by_role("link", name="Jürgen Müller").click()
    expect(page.get_by_text("Head of Sales").first).to_be_visible()
    expect(page.get_by_role("link", name="Business Breakfast Seoul").first).to_be_visible()
