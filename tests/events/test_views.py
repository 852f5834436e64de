import re

import pytest
import sqlalchemy as sa

from crm.activities.models import Activity
from crm.contacts.models import Contact
from crm.events.models import Event
from crm.extensions import db
from crm.organisations.models import Organisation
from tests.auth.test_views import field_error
from tests.factories import make_contact, make_event, make_organisation


def names(html):
    """The event named in each row of the list (the first link of the row)."""
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    return [re.search(r'<a href="/events/\d+">([^<]+)</a>', row).group(1)
            for row in body.split("<tr>")[1:]]


@pytest.fixture
def korea(app):
    trip = make_event(name="Delegationsreise Südkorea", kind="trip", starts_on="2024-09-02",
                      ends_on="2024-09-06", country="KR")
    breakfast = make_event(name="Business Breakfast Seoul", parent_id=trip.id,
                           starts_on="2024-09-03", city="Seoul", country="KR")
    return trip, breakfast


def test_list_newest_first_with_filters(login, korea):
    _, client = login()
    trip, _breakfast = korea
    make_event(name="Asparagus Dinner", kind="reception", starts_on="2025-05-21", country="US")
    assert names(client.get("/events").get_data(as_text=True)) == [
        "Asparagus Dinner", "Business Breakfast Seoul", "Delegationsreise Südkorea"]
    assert names(client.get(f"/events?trip={trip.id}").get_data(as_text=True)) == [
        "Business Breakfast Seoul", "Delegationsreise Südkorea"]
    assert names(client.get("/events?kind=reception").get_data(as_text=True)) == ["Asparagus Dinner"]
    assert names(client.get("/events?year=2024&country=KR&q=sudkorea").get_data(as_text=True)) == [
        "Delegationsreise Südkorea"]


def test_list_runs_the_same_queries_for_10_and_200_events(login, count_queries):
    _, client = login()
    trip = make_event(kind="trip", starts_on="2024-01-01", ends_on="2024-12-31")
    contact = make_contact()
    counts = []
    for total in (10, 200):
        while db.session.scalar(sa.select(sa.func.count(Event.id))) < total:
            make_event(commit=False, parent_id=trip.id,
                       attendees=[{"contact_id": contact.id, "status": "met"}])
        db.session.commit()
        with count_queries() as statements:
            assert client.get("/events?per_page=200").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_create_an_event_in_a_trip_with_partners_and_team(login, korea):
    user, client = login()
    trip, _ = korea
    gtai = make_organisation(name="Germany Trade & Invest", kind="partner")
    response = client.post("/events/new", data={
        "name": "Investorenseminar Gyeonggi-do", "kind": "investor_seminar",
        "parent_id": str(trip.id), "starts_on": "2024-09-05", "city": "Suwon", "country": "KR",
        "partner_ids": [str(gtai.id)], "team_member_ids": [str(user.id)]})
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Germany Trade &amp; Invest" in html and user.name in html
    assert "Delegationsreise Südkorea" in html and "05.09.2024" in html


@pytest.mark.parametrize(("data", "field"), [
    ({"starts_on": "2024-09-05", "ends_on": "2024-09-04"}, "ends_on"),
    ({"starts_on": "2024-10-01"}, "starts_on"),
    ({"starts_on": "32.13.2024"}, "starts_on"),
    ({"country": "XX"}, "country"),
    ({"name": "n" * 301}, "name"),
    ({"description": "d" * 1_000_000}, "description"),
])
def test_bad_input_shows_beside_the_field_and_saves_nothing(login, korea, data, field):
    _, client = login()
    trip, _ = korea
    response = client.post("/events/new", data={"name": "Seminar", "kind": "investor_seminar",
                                                "parent_id": str(trip.id),
                                                "starts_on": "2024-09-04", **data})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field)
    assert db.session.scalar(sa.select(sa.func.count(Event.id))) == 2


def test_a_trip_cannot_be_put_inside_itself_on_the_page(login, korea):
    _, client = login()
    trip, _ = korea
    response = client.post(f"/events/{trip.id}/edit", data={
        "name": trip.name, "kind": "trip", "starts_on": "2024-09-02", "ends_on": "2024-09-06",
        "parent_id": str(trip.id), "version": trip.version})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "parent_id")


def test_capture_on_the_event_page(login, korea):
    _, client = login()
    _, breakfast = korea
    response = client.post(f"/events/{breakfast.id}/capture", data={
        "first_name": "민정", "last_name": "김", "latin_name": "Kim Min-jung",
        "organisation": "new:Hyundai Motor Company", "position": "Strategie",
        "email": "mj.kim@hyundai.example", "phone": "+82 2 3464 1114",
        "note": "Sucht 20.000 m² Fläche.\n<b>Wichtig</b>"})
    assert response.status_code == 302
    html = client.get(f"/events/{breakfast.id}").get_data(as_text=True)
    assert "김민정" in html and "Hyundai Motor Company" in html and "Persönlich getroffen" in html
    assert "Sucht 20.000 m² Fläche.\n&lt;b&gt;Wichtig&lt;/b&gt;" in html
    assert db.session.scalar(sa.select(sa.func.count(Activity.id))) == 1


@pytest.mark.parametrize(("data", "field"), [
    ({"last_name": ""}, "last_name"), ({"email": "nope"}, "email"), ({"phone": "1"}, "phone"),
    ({"note": "n" * 1_000_000}, "note"),
])
def test_capture_with_bad_input_shows_it_and_saves_nothing(login, korea, data, field):
    _, client = login()
    _, breakfast = korea
    response = client.post(f"/events/{breakfast.id}/capture",
                           data={"last_name": "Park", "organisation": "Neue Firma", **data})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field)
    assert db.session.scalar(sa.select(sa.func.count(Contact.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Organisation.id))) == 0
    assert "Neue Firma" in response.get_data(as_text=True)  # the typed organisation stays


def test_capture_of_a_known_email_shows_the_person(login, korea):
    _, client = login()
    _, breakfast = korea
    known = make_contact(first_name="Sam", last_name="Lee", email="sam@lg.example")
    form = {"last_name": "Lee", "email": "sam@lg.example"}
    response = client.post(f"/events/{breakfast.id}/capture", data=form)
    assert response.status_code == 409
    assert f'href="/contacts/{known.id}"' in response.get_data(as_text=True)
    response = client.post(f"/events/{breakfast.id}/capture", data={**form,
                                                                    "confirm_duplicate": "y"})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Contact.id))) == 2


def test_capture_records_a_known_person_with_the_note(login, korea):
    _, client = login()
    _, breakfast = korea
    known = make_contact(first_name="Sam", last_name="Lee", email="sam@lg.example")
    response = client.post(f"/events/{breakfast.id}/capture", data={
        "last_name": "Lee", "email": "sam@lg.example", "organisation": "new:LG Electronics",
        "position": "CTO", "note": "Kennt uns schon.", "existing_contact": str(known.id)})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Contact.id))) == 1
    assert [a.organisation.name for a in known.affiliations] == ["LG Electronics"]
    html = client.get(f"/events/{breakfast.id}").get_data(as_text=True)
    assert "Sam Lee" in html and "Kennt uns schon." in html


@pytest.mark.parametrize("organisation", ["1860", "new:1860"])
def test_a_new_organisation_named_with_digits_is_made_not_looked_up(login, korea, organisation):
    _, client = login()
    _, breakfast = korea
    response = client.post(f"/events/{breakfast.id}/capture",
                           data={"last_name": "Park", "organisation": organisation})
    if organisation == "1860":  # without JavaScript digits are an id: none such exists
        assert response.status_code == 422
        assert field_error(response.get_data(as_text=True), "organisation")
    else:
        assert response.status_code == 302
        assert db.session.scalars(sa.select(Organisation.name)).all() == ["1860"]


def test_a_new_organisation_from_the_capture_takes_the_events_country(login, korea):
    _, client = login()
    _, breakfast = korea
    client.post(f"/events/{breakfast.id}/capture",
                data={"last_name": "Park", "organisation": "Doosan Robotics"})
    organisation = db.session.scalars(sa.select(Organisation)).one()
    assert (organisation.name, organisation.country, organisation.kind) == (
        "Doosan Robotics", "KR", "investor")


def test_an_attendee_can_be_added_by_email_without_javascript(login, korea):
    _, client = login()
    _, breakfast = korea
    contact = make_contact(first_name="Ana", last_name="Lee", email="ana@lg.example")
    client.post(f"/events/{breakfast.id}/attendees",
                data={"contact": "ANA@lg.example", "status": "attended"})
    assert [a.contact_id for a in breakfast.attendances] == [contact.id]


def test_capturing_moves_the_events_version_on(login, korea):
    _, client = login()
    _, breakfast = korea
    version = breakfast.version
    client.post(f"/events/{breakfast.id}/capture", data={"last_name": "Park"})
    db.session.expire_all()
    assert breakfast.version > version


def test_deleted_records_cannot_be_changed_even_by_an_admin(login, korea):
    _, client = login("admin")
    _, breakfast = korea
    from crm.events import services as event_services

    event_services.delete_event(breakfast, actor=None)
    db.session.commit()
    assert client.get(f"/events/{breakfast.id}").status_code == 200  # seen, to restore it
    for url, data in ((f"/events/{breakfast.id}/capture", {"last_name": "Park"}),
                      (f"/events/{breakfast.id}/edit", {"name": "X", "kind": "other",
                                                        "starts_on": "2024-09-03",
                                                        "version": breakfast.version})):
        assert client.post(url, data=data).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(Contact.id))) == 0


def test_attendees_are_added_and_removed(login, korea):
    _, client = login()
    _, breakfast = korea
    contact = make_contact(first_name="Ana", last_name="Lee")
    assert client.post(f"/events/{breakfast.id}/attendees",
                       data={"contact": str(contact.id), "status": "registered"}).status_code == 302
    assert "Angemeldet" in client.get(f"/events/{breakfast.id}").get_data(as_text=True)
    assert client.post(f"/events/{breakfast.id}/attendees",
                       data={"contact": "999", "status": "met"}).status_code == 422
    assert client.post(f"/events/{breakfast.id}/attendees",
                       data={"contact": str(contact.id), "status": "asleep"}).status_code == 422
    client.post(f"/events/{breakfast.id}/attendees/{contact.id}/remove")
    html = client.get(f"/events/{breakfast.id}").get_data(as_text=True)
    assert f'href="/contacts/{contact.id}"' not in html and "Noch niemand eingetragen." in html


def test_trip_page_lists_its_programme(login, korea):
    _, client = login()
    trip, _ = korea
    html = client.get(f"/events/{trip.id}").get_data(as_text=True)
    assert "Programm der Reise" in html and "Business Breakfast Seoul" in html


def edit_trip(client, trip, **changes):
    db.session.refresh(trip)
    return client.post(f"/events/{trip.id}/edit", data={
        "name": trip.name, "kind": "trip", "starts_on": "2024-09-02", "ends_on": "2024-09-06",
        "country": "KR", "version": trip.version, **changes})


def test_the_cost_is_entered_as_typed_and_shown_in_euros_in_the_users_language(login, korea):
    _, client = login()
    trip, _ = korea
    form = client.get(f"/events/{trip.id}/edit").get_data(as_text=True)
    assert re.search(r'<label class="form-label" for="cost_eur">', form)
    assert re.search(r'<input[^>]*aria-describedby="cost_eur-help"[^>]*inputmode="decimal"'
                     r'|<input[^>]*inputmode="decimal"[^>]*aria-describedby="cost_eur-help"', form)
    assert edit_trip(client, trip, cost_eur="38.500 €").status_code == 302
    db.session.refresh(trip)
    assert trip.cost_eur == 38_500
    assert "38.500\xa0€" in client.get(f"/events/{trip.id}").get_data(as_text=True)
    assert 'value="38500"' in client.get(f"/events/{trip.id}/edit").get_data(as_text=True)
    _, english = login(language="en")
    assert "€38,500" in english.get(f"/events/{trip.id}").get_data(as_text=True)
    # An empty field clears it, and the page shows no cost.
    assert edit_trip(client, trip, cost_eur="").status_code == 302
    db.session.refresh(trip)
    assert trip.cost_eur is None
    assert "€" not in client.get(f"/events/{trip.id}").get_data(as_text=True)


@pytest.mark.parametrize("cost", ["-5", "abc", "1e9", str(10**12), "100.000.001"])
def test_a_bad_cost_shows_beside_the_field_and_changes_nothing(login, korea, cost):
    _, client = login()
    trip, _ = korea
    assert edit_trip(client, trip, cost_eur="2.400").status_code == 302
    response = edit_trip(client, trip, cost_eur=cost, city="Seoul")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, "cost_eur")
    assert f'value="{cost}"' in html  # what was typed stays, to be corrected
    db.session.refresh(trip)
    assert (trip.cost_eur, trip.city) == (2_400, None)
