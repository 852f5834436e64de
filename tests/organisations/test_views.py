import re

import pytest
import sqlalchemy as sa

from crm.events import services as event_services
from crm.extensions import db
from crm.organisations.models import Organisation
from tests.auth.test_views import field_error
from tests.factories import make_contact, make_event, make_organisation


def rows(html):
    """The names in the first column of a list page's table, in order."""
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    return re.findall(r'<td><a href="/organisations/\d+">([^<]+)</a>', body)


def test_list_sorts_the_german_way_and_counts(login):
    _, client = login()
    for name in ("Zeiss", "Özdemir Logistik", "Ärzte-Netzwerk", "Obermann", "김 Holdings"):
        make_organisation(name=name)
    html = client.get("/organisations").get_data(as_text=True)
    assert rows(html) == ["Ärzte-Netzwerk", "Obermann", "Özdemir Logistik", "Zeiss", "김 Holdings"]
    assert "5 Einträge" in html
    assert rows(client.get("/organisations?sort=-name").get_data(as_text=True))[0] == "김 Holdings"


@pytest.mark.parametrize(("query", "found"), [
    ("q=muller", "Müller Optik"), ("q=MUELLER", "Müller Optik"), ("q=Müller", "Müller Optik"),
    ("q=wojcik", "Wójcik Sp. z o.o."), ("q=jena", "Müller Optik"), ("q=현대", "현대자동차"),
    ("kind=partner", "OptoNet e.V."), ("country=KR", "현대자동차"),
    ("sector=optics_photonics", "OptoNet e.V."), ("tag=Aftercare", "Müller Optik"),
])
def test_list_search_and_filters(login, query, found):
    _, client = login()
    make_organisation(name="Müller Optik", city="Jena", country="DE", tags=["Aftercare"])
    make_organisation(name="Wójcik Sp. z o.o.", country="PL")
    make_organisation(name="OptoNet e.V.", kind="partner", sectors=["optics_photonics"])
    make_organisation(name="현대자동차", country="KR")
    assert rows(client.get(f"/organisations?{query}").get_data(as_text=True)) == [found]


def test_list_runs_the_same_queries_for_10_and_200_organisations(login, count_queries):
    _, client = login()
    counts = []
    for total in (10, 200):
        while db.session.scalar(sa.select(sa.func.count(Organisation.id))) < total:
            make_organisation(commit=False, sectors=["automotive", "sensors"], tags=["x"])
        db.session.commit()
        with count_queries() as statements:
            response = client.get("/organisations?per_page=200")
        assert response.status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_create_through_the_page(login):
    _, client = login()
    response = client.post("/organisations/new", data={
        "name": "Jenoptik AG", "kind": "investor", "country": "DE", "city": "Jena",
        "website": "https://www.jenoptik.com", "sectors": ["optics_photonics", "sensors"],
        "tags": "Photonik, Aftercare"})
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Jenoptik AG" in html and "Optik und Photonik, Sensorik" in html
    assert "Deutschland" in html and "Aftercare" in html


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"name": ""}, "name", "Dieses Feld wird benötigt."),
    ({"website": "javascript:alert(1)"}, "website", "Geben Sie eine Webadresse ein"),
    ({"country": "XX"}, "country", "ISO-3166"),
    ({"description": "x" * 1_000_000}, "description", "höchstens 20.000 Zeichen"),
    ({"kind": "pirate"}, "kind", "angebotenen Werte"),
])
def test_bad_input_shows_beside_the_field_and_saves_nothing(login, data, field, message):
    _, client = login()
    response = client.post("/organisations/new", data={"name": "Firma", "kind": "investor", **data})
    assert response.status_code == 422
    assert message in field_error(response.get_data(as_text=True), field)
    assert db.session.scalar(sa.select(sa.func.count(Organisation.id))) == 0


def test_a_duplicate_name_shows_the_existing_one_and_asks(login):
    _, client = login()
    existing = make_organisation(name="Jenoptik AG")
    response = client.post("/organisations/new", data={"name": "JENOPTIK GmbH", "kind": "investor"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert f'href="/organisations/{existing.id}">Jenoptik AG</a>' in html
    assert "trotzdem anlegen" in html
    assert db.session.scalar(sa.select(sa.func.count(Organisation.id))) == 1
    response = client.post("/organisations/new", data={"name": "JENOPTIK GmbH", "kind": "investor",
                                                       "confirm_duplicate": "y"})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Organisation.id))) == 2


def test_detail_shows_people_events_subsidiaries_and_timeline(login):
    user, client = login()
    group = make_organisation(name="Jenoptik AG")
    shanghai = make_organisation(name="Jenoptik Shanghai", parent_id=group.id)
    person = make_contact(first_name="Lea", last_name="Schäfer", organisation=group)
    make_contact(first_name="Alt", last_name="Mann", affiliations=[
        {"organisation_id": group.id, "role": "CFO", "is_current": False}])
    make_event(name="Photonik-Tag", partner_ids=[group.id])
    met = make_event(name="Business Breakfast Seoul", attendees=[{"contact_id": person.id,
                                                                  "status": "met"}])
    event_services.capture_person(met, {"last_name": "Kim", "organisation": str(group.id),
                                        "note": "Möchte nach Erfurt."}, actor=user)
    db.session.commit()
    html = client.get(f"/organisations/{group.id}").get_data(as_text=True)
    for text in ("Lea Schäfer", "Alt Mann", "ehemals", "Jenoptik Shanghai", "Photonik-Tag",
                 "als Partner", "Business Breakfast Seoul", "Möchte nach Erfurt."):
        assert text in html, text
    assert "Jenoptik AG" in client.get(f"/organisations/{shanghai.id}").get_data(as_text=True)


def test_edit_on_an_outdated_form_is_a_conflict(login):
    _, client = login()
    organisation = make_organisation(name="Kia")
    form = {"name": "Kia", "kind": "investor", "version": organisation.version}
    assert client.post(f"/organisations/{organisation.id}/edit",
                       data={**form, "city": "Seoul"}).status_code == 302
    response = client.post(f"/organisations/{organisation.id}/edit", data={**form, "city": "Busan"})
    assert response.status_code == 409
    db.session.expire_all()
    assert organisation.city == "Seoul"


def test_delete_hides_from_members_and_an_admin_restores(app, login):
    _, member = login("member")
    _, admin = login("admin")
    organisation = make_organisation(name="Weg GmbH")
    assert member.post(f"/organisations/{organisation.id}/delete").status_code == 302
    assert member.get(f"/organisations/{organisation.id}").status_code == 404
    assert "Weg GmbH" not in member.get("/organisations").get_data(as_text=True)
    assert "Weg GmbH" in admin.get("/organisations?deleted=1").get_data(as_text=True)
    assert admin.get(f"/organisations/{organisation.id}").status_code == 200
    assert admin.post(f"/organisations/{organisation.id}/restore").status_code == 302
    assert member.get(f"/organisations/{organisation.id}").status_code == 200


def test_typeahead_finds_folded_names(login):
    _, client = login()
    make_organisation(name="Müller Optik", city="Jena", country="DE")
    make_organisation(name="Zeiss")
    assert client.get("/organisations/typeahead?q=muell").json == [
        {"id": 1, "name": "Müller Optik", "city": "Jena", "country": "DE"}]
    assert client.get("/organisations/typeahead?q=").json == []


@pytest.mark.parametrize("path", ["/organisations/abc", "/organisations/0", "/organisations/99",
                                  "/organisations/1.5/edit", "/organisations/99999999999999"])
def test_impossible_ids_are_404(login, path):
    _, client = login()
    assert client.get(path).status_code == 404


def test_an_organisation_with_leads_is_not_deleted(login):
    from tests.factories import make_lead

    user, client = login()
    hyundai = make_organisation(name="Hyundai Motor Company")
    make_lead(actor=user, organisation=hyundai)
    response = client.post(f"/organisations/{hyundai.id}/delete")
    assert response.status_code == 409
    assert "Investor von 1 Leads" in response.get_data(as_text=True)
    db.session.expire_all()
    assert not hyundai.is_deleted
