"""After the Seoul business breakfast: follow-ups for everyone met, ticked off from home."""

import re

from playwright.sync_api import expect

from tests.browser.test_accessibility import assert_accessible
from tests.factories import make_contact, make_event, make_user


def test_follow_ups_for_everyone_met_then_one_ticked_off_on_the_home_page(page, live_app):
    with live_app.app_context():
        from crm.events import services as event_services
        from crm.extensions import db

        lea = make_user(name="Lea Schäfer", email="lea@lotse.example")
        breakfast = make_event(name="Business Breakfast Seoul", starts_on="2024-09-02",
                               city="Seoul", country="KR")
        for first, last in (("민정", "김"), ("Ji-ho", "Park"), ("Sam", "Lee")):
            event_services.set_attendance(breakfast, make_contact(first_name=first,
                                                                  last_name=last), "met",
                                          actor=lea)
        db.session.commit()
        breakfast_id = breakfast.id
    page.goto("/login")
    page.get_by_label("E-Mail-Adresse").fill("lea@lotse.example")
    page.get_by_label("Passwort").fill("correct horse battery staple")
    page.get_by_role("button", name="Anmelden").click()

    page.goto(f"/events/{breakfast_id}")
    waiting = page.get_by_role("region", name=re.compile("haben seitdem nichts von uns gehört"))
    expect(waiting).to_contain_text("3 hier getroffene Personen")
    waiting.get_by_role("button", name=re.compile("Wiedervorlagen für alle anlegen")).click()
    expect(page.get_by_role("status").filter(has_text="3 Wiedervorlagen wurden angelegt.")
           ).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Start").click()
    due_today = page.get_by_role("list", name=re.compile("Heute"))
    expect(due_today.get_by_role("listitem")).to_have_count(3)
    first = due_today.get_by_role("listitem").filter(has_text="Park")
    first.get_by_role("button", name=re.compile("Erledigt")).click()
    expect(due_today.get_by_role("listitem")).to_have_count(2)
    expect(due_today.get_by_role("listitem").filter(has_text="Park")).to_have_count(0)
    assert_accessible(page)
    page.reload()
    expect(page.get_by_role("list", name=re.compile("Heute")).get_by_role("listitem")
           ).to_have_count(2)


def test_a_note_is_added_on_a_contact_page_without_leaving_it(page, live_app, sign_in):
    with live_app.app_context():
        contact = make_contact(first_name="Ji-ho", last_name="Park")
        contact_id = contact.id
    sign_in()
    page.goto(f"/contacts/{contact_id}")
    page.get_by_text("Notiz, Anruf, Treffen, E-Mail oder Besuch festhalten").click()
    page.get_by_label("Art").select_option(label="Anruf")
    page.get_by_label("Was geschah").fill("Rückruf vereinbart, siehe https://example.org/termine")
    page.get_by_role("button", name="Eintrag speichern").click()
    entry = page.locator("#timeline-list li").first
    expect(entry).to_contain_text("Rückruf vereinbart")
    expect(entry.get_by_role("link", name="https://example.org/termine")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/contacts/{contact_id}$"))  # the page stayed
    assert_accessible(page)
