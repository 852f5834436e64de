"""Likely duplicates in the browser: two Kim Min-juns at two companies are marked as not the
same, leave the page, and are offered again from the list of marks."""

from playwright.sync_api import expect

from tests.browser.test_accessibility import assert_accessible
from tests.factories import make_contact, make_organisation


def test_two_people_alike_are_marked_as_not_the_same_and_offered_again(page, live_app,
                                                                       sign_in):
    with live_app.app_context():
        make_contact(first_name="Min-jun", last_name="Kim",
                     organisation=make_organisation(name="Hanwha Sensorik"))
        make_contact(first_name="Min-jun", last_name="Kim",
                     organisation=make_organisation(name="LG Innotek"))
    sign_in()
    page.goto("/duplicates")
    contacts = page.get_by_role("region", name="Kontakte")
    expect(contacts.get_by_text("LG Innotek")).to_be_visible()
    assert_accessible(page)
    contacts.get_by_role("button", name="Nicht dieselbe").click()
    expect(page.get_by_role("status")).to_contain_text("als verschieden von den anderen")
    expect(contacts.get_by_text("Keine wahrscheinlichen Dubletten")).to_be_visible()

    page.get_by_role("link", name="Als verschieden markiert").click()
    expect(page.get_by_role("link", name="Min-jun Kim")).to_have_count(2)
    assert_accessible(page)
    page.get_by_role("button", name="Wieder anbieten").click()
    expect(page.get_by_role("status")).to_contain_text("wieder als wahrscheinliche Dublette")
    page.goto("/duplicates")
    expect(contacts.get_by_text("LG Innotek")).to_be_visible()
