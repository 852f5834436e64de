"""At the Seoul business breakfast: capture a person met there, find them again, see them at
their organisation."""

import re

from playwright.sync_api import expect

from tests.factories import make_event


def test_team_member_captures_a_person_met_at_the_breakfast(page, live_app, sign_in):
    with live_app.app_context():
        trip = make_event(name="Delegationsreise Südkorea", kind="trip", starts_on="2024-09-02",
                          ends_on="2024-09-06", country="KR")
        breakfast = make_event(name="Business Breakfast Seoul", parent_id=trip.id,
                               starts_on="2024-09-03", city="Seoul", country="KR")
        breakfast_id = breakfast.id
    sign_in(name="Lea Schäfer")

    page.goto("/events")
    page.get_by_role("link", name="Business Breakfast Seoul").click()
    expect(page.get_by_role("heading", name="Business Breakfast Seoul")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/events/{breakfast_id}$"))

    capture = page.get_by_role("region", name="Hier getroffene Person erfassen")
    capture.get_by_label("Vorname").fill("Jürgen")
    capture.get_by_label("Nachname").fill("Müller")
    # The organisation picker: type a new name and take it with the keyboard.
    organisation = capture.get_by_role("combobox", name="Organisation")
    organisation.fill("Müller Präzisionsoptik GmbH")
    expect(page.get_by_text("Neu: Müller Präzisionsoptik GmbH")).to_be_visible()
    organisation.press("Enter")
    capture.get_by_label("Position").fill("Geschäftsführer")
    capture.get_by_label("E-Mail-Adresse").fill("j.mueller@praezisionsoptik.example")
    capture.get_by_label("Erste Notiz").fill("Sucht einen Standort für 120 Arbeitsplätze.")
    capture.get_by_role("button", name="Person speichern").click()

    expect(page.get_by_role("status")).to_contain_text("Jürgen Müller wurde als hier getroffen")
    people = page.get_by_role("table", name="Personen bei dieser Veranstaltung")
    expect(people.get_by_role("row", name=re.compile("Jürgen Müller"))).to_contain_text(
        "Persönlich getroffen")

    # Find the person without typing the umlaut.
    page.get_by_role("searchbox", name="Suche").fill("mueller")
    page.keyboard.press("Enter")
    # The event's page links the person too: wait for the results before clicking.
    expect(page).to_have_url(re.compile(r"/search\?q=mueller$"))
    page.locator("#search-results").get_by_role("link", name="Jürgen Müller").click()
    expect(page.get_by_role("heading", name="Jürgen Müller")).to_be_visible()

    page.get_by_role("link", name="Müller Präzisionsoptik GmbH").first.click()
    expect(page.get_by_role("heading", name="Müller Präzisionsoptik GmbH")).to_be_visible()
    expect(page.get_by_role("link", name="Jürgen Müller").first).to_be_visible()
    expect(page.get_by_text("Geschäftsführer")).to_be_visible()
    expect(page.get_by_text("Sucht einen Standort für 120 Arbeitsplätze.")).to_be_visible()
    expect(page.get_by_role("link", name="Business Breakfast Seoul").first).to_be_visible()


def test_capture_on_a_phone_with_the_keyboard_alone(page, live_app, sign_in):
    with live_app.app_context():
        breakfast = make_event(name="Networking Evening Suwon", kind="networking",
                               starts_on="2024-09-04", city="Suwon", country="KR")
        breakfast_id = breakfast.id
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in()
    page.goto(f"/events/{breakfast_id}")
    capture = page.get_by_role("region", name="Hier getroffene Person erfassen")
    # On a phone the form comes before the list of people.
    first_name = capture.get_by_label("Vorname")
    people = page.get_by_role("heading", name="Personen")
    assert first_name.bounding_box()["y"] < people.bounding_box()["y"]

    first_name.focus()
    page.keyboard.type("Eun-bi")
    page.keyboard.press("Tab")
    page.keyboard.type("Cho")
    page.keyboard.press("Tab")
    page.keyboard.type("Cho Eun-bi")
    page.keyboard.press("Tab")
    page.keyboard.type("Doosan Robotics")
    expect(page.get_by_text("Neu: Doosan Robotics")).to_be_visible()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.type("Director")
    for _ in range(4):  # email, phone, mobile, note
        page.keyboard.press("Tab")
    page.keyboard.type("Will die Roboterfertigung in Europa ausbauen.")
    page.keyboard.press("Tab")
    expect(capture.get_by_role("button", name="Person speichern")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_contain_text("Eun-bi Cho wurde als hier getroffen")
    page.get_by_role("link", name="Doosan Robotics").first.click()
    expect(page.get_by_text("Südkorea")).to_be_visible()  # the event's country
