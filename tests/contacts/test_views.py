import re

import pytest
import sqlalchemy as sa

from crm.contacts.models import Contact
from crm.extensions import db
from tests.auth.test_views import field_error
from tests.factories import make_contact, make_event, make_organisation, make_user


def names(html):
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    return re.findall(r'<td><a href="/contacts/\d+">([^<]+)</a>', body)


@pytest.mark.parametrize(("q", "found"), [
    ("muller", "Jürgen Müller"), ("mueller", "Jürgen Müller"), ("MÜLLER", "Jürgen Müller"),
    ("jurg", "Jürgen Müller"), ("kim min", "김민정"), ("김민", "김민정"), ("zhang", "张伟"),
    ("张", "张伟"), ("wojcik", "Anna Wójcik"), ("weiss", "Dr. Eva Weiß"),
])
def test_search_finds_people_by_any_spelling_and_script(login, q, found):
    _, client = login()
    make_contact(first_name="Jürgen", last_name="Müller")
    make_contact(first_name="민정", last_name="김", latin_name="Kim Min-jung")
    make_contact(first_name="伟", last_name="张", latin_name="Zhang Wei")
    make_contact(first_name="Anna", last_name="Wójcik")
    make_contact(first_name="Eva", last_name="Weiß", academic_title="Dr.")
    assert names(client.get("/contacts", query_string={"q": q}).get_data(as_text=True)) == [found]


def test_list_filters_by_organisation_event_owner_tag_and_language(login):
    user, client = login()
    colleague = make_user()
    lg = make_organisation(name="LG")
    ana = make_contact(first_name="Ana", last_name="Lee", organisation=lg, tags=["VIP"],
                       language="ko", owner_id=colleague.id)
    make_contact(first_name="Bob", last_name="Smith", owner_id=user.id)
    event = make_event(attendees=[{"contact_id": ana.id, "status": "met"}])
    for query in (f"organisation={lg.id}", f"event={event.id}", "tag=VIP", "language=ko",
                  f"owner={colleague.id}"):
        assert names(client.get(f"/contacts?{query}").get_data(as_text=True)) == ["Ana Lee"]
    assert names(client.get(f"/contacts?owner={user.id}").get_data(as_text=True)) == ["Bob Smith"]


def test_list_runs_the_same_queries_for_10_and_200_contacts(login, count_queries):
    _, client = login()
    organisations = [make_organisation() for _ in range(3)]
    counts = []
    for total in (10, 200):
        while db.session.scalar(sa.select(sa.func.count(Contact.id))) < total:
            make_contact(commit=False, organisation=organisations[total % 3], tags=["a"])
        db.session.commit()
        with count_queries() as statements:
            assert client.get("/contacts?per_page=200").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_create_a_contact_with_an_organisation(login):
    user, client = login()
    hyundai = make_organisation(name="Hyundai Motor Company")
    response = client.post("/contacts/new", data={
        "first_name": "민정", "last_name": "김", "latin_name": "Kim Min-jung",
        "email": "MJ.Kim@hyundai.example", "phone": "+82 2 3464 1114", "language": "ko",
        "owner_id": str(user.id), "legal_basis": "consent", "source": "Visitenkarte",
        "organisation": str(hyundai.id), "organisation_role": "Head of Strategy"})
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    for text in ("김민정", "Kim Min-jung", "mj.kim@hyundai.example", "+82 2-3464-1114",
                 "Koreanisch", "Einwilligung", "Hyundai Motor Company", "Head of Strategy"):
        assert text in html, text


@pytest.mark.parametrize(("data", "field"), [
    ({"last_name": ""}, "last_name"), ({"email": "kim at hyundai"}, "email"),
    ({"phone": "0000"}, "phone"), ({"legal_basis": "whim"}, "legal_basis"),
    ({"owner_id": "99999"}, "owner_id"), ({"source": "s" * 5000}, "source"),
    ({"informed_on": "2999-12-31"}, "informed_on"), ({"informed_on": "gestern"}, "informed_on"),
])
def test_bad_input_shows_beside_the_field_and_saves_nothing(login, data, field):
    _, client = login()
    response = client.post("/contacts/new", data={"last_name": "Kim", "legal_basis": "consent",
                                                  **data})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field)
    assert db.session.scalar(sa.select(sa.func.count(Contact.id))) == 0


def test_data_protection_marks_are_set_in_the_form_and_shown_in_list_and_page(login):
    _, client = login()
    contact = make_contact(first_name="Jürgen", last_name="Weiß")
    page = client.get(f"/contacts/{contact.id}/edit").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page)[1]
    response = client.post(f"/contacts/{contact.id}/edit", data={
        "version": version, "last_name": "Weiß", "first_name": "Jürgen",
        "legal_basis": "legitimate_interest", "informed_on": "2025-05-21",
        "marketing_consent": "y", "do_not_contact": "y"})
    assert response.status_code == 302
    html = client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert "21.05.2025" in html
    assert "Willigt in Newsletter und Einladungen ein" in html
    assert 'class="alert alert-warning" role="note"><strong>Nicht kontaktieren.</strong>' in html
    listed = client.get("/contacts").get_data(as_text=True)
    assert '<span class="badge text-bg-warning">Nicht kontaktieren</span>' in listed
    # Unticked, both marks are taken back.
    version = str(int(version) + 1)
    response = client.post(f"/contacts/{contact.id}/edit", data={
        "version": version, "last_name": "Weiß", "legal_basis": "legitimate_interest",
        "informed_on": "2025-05-21"})
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Contact, contact.id)
    assert (saved.marketing_consent, saved.do_not_contact) == (False, False)


def test_an_existing_email_shows_the_person_and_asks(login):
    _, client = login()
    existing = make_contact(first_name="Lea", last_name="Schäfer", email="lea@example.org")
    form = {"last_name": "Schaefer", "email": "LEA@example.org", "legal_basis": "consent"}
    response = client.post("/contacts/new", data=form)
    assert response.status_code == 409
    assert f'href="/contacts/{existing.id}">Lea Schäfer</a>' in response.get_data(as_text=True)
    assert client.post("/contacts/new", data={**form, "confirm_duplicate": "y"}).status_code == 302


def test_affiliations_are_added_and_removed_on_the_contact_page(login):
    _, client = login()
    contact = make_contact(first_name="Wei", last_name="Zhang")
    response = client.post(f"/contacts/{contact.id}/affiliations",
                           data={"organisation": "new:Huawei Technologies", "role": "Director",
                                 "is_current": "y"})
    assert response.status_code == 302
    html = client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert "Huawei Technologies" in html and "Director" in html
    organisation_id = contact.affiliations[0].organisation_id
    client.post(f"/contacts/{contact.id}/affiliations/{organisation_id}/remove")
    db.session.expire_all()
    assert contact.affiliations == []
    bad = client.post(f"/contacts/{contact.id}/affiliations", data={"organisation": ""})
    assert bad.status_code == 422


def test_contact_page_lists_events(login):
    _, client = login()
    contact = make_contact(first_name="Sam", last_name="Lee")
    make_event(name="Asparagus Dinner", kind="reception", starts_on="2025-05-21",
               attendees=[{"contact_id": contact.id, "status": "attended"}])
    html = client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert "Asparagus Dinner" in html and "Teilgenommen" in html and "21.05.2025" in html


def test_typeahead_shows_name_and_organisation(login):
    _, client = login()
    lg = make_organisation(name="LG Electronics")
    make_contact(first_name="민정", last_name="김", latin_name="Kim Min-jung", organisation=lg)
    expected = [{"id": 1, "name": "김민정", "latin_name": "Kim Min-jung", "email": None,
                 "organisation": "LG Electronics"}]
    assert client.get("/contacts/typeahead?q=kim").json == expected
    assert client.get("/contacts/typeahead?id=1").json == expected


def test_the_contact_page_runs_the_same_queries_for_2_and_30_organisations(login, count_queries):
    _, client = login()
    contact = make_contact()
    counts = []
    for total in (2, 30):
        while len(contact.affiliations) < total:
            services_add(contact)
        with count_queries() as statements:
            assert client.get(f"/contacts/{contact.id}").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]


def services_add(contact):
    from crm.contacts import services

    services.add_affiliation(contact, organisation=make_organisation(), actor=None)
    db.session.commit()


def test_editing_keeps_a_deactivated_owner(login):
    _, client = login()
    make_user(role="admin")
    owner = make_user(name="Ehemalige Kollegin")
    contact = make_contact(owner_id=owner.id)
    owner.is_active = False
    db.session.commit()
    html = client.get(f"/contacts/{contact.id}/edit").get_data(as_text=True)
    assert f'<option selected value="{owner.id}">Ehemalige Kollegin</option>' in html


def test_a_deleted_organisation_disappears_from_its_people(login):
    _, client = login()
    lg = make_organisation(name="LG Gone")
    contact = make_contact(first_name="Ana", last_name="Lee", organisation=lg)
    from crm.organisations import services as organisation_services

    organisation_services.delete_organisation(lg, actor=None)
    db.session.commit()
    for url in ("/contacts", f"/contacts/{contact.id}", "/contacts/typeahead?q=ana",
                f"/contacts?organisation={lg.id}"):
        assert "LG Gone" not in client.get(url).get_data(as_text=True), url


def test_a_stale_form_shows_what_changed_and_saving_again_keeps_the_users_entries(app, login):
    """Lea opens the form; Jonas saves a new position; Lea saves hers: she sees Jonas's change
    with his name, her entries are still there, and saving again is her decision."""
    lea, client = login(name="Lea Lang")
    jonas = make_user(name="Jonas Weber")
    contact = make_contact(first_name="Jürgen", last_name="Weiß", position="Berater")
    page = client.get(f"/contacts/{contact.id}/edit").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page)[1]
    loaded_at = re.search(r'name="loaded_at" type="hidden" value="([^"]+)"', page)[1]
    from crm.contacts import services as contact_services

    contact_services.update_contact(contact, {"position": "Geschäftsführer"}, actor=jonas)
    db.session.commit()
    form = {"version": version, "loaded_at": loaded_at, "first_name": "Jürgen",
            "last_name": "Weiß", "position": "Leiter Einkauf", "legal_basis": "public_task"}
    response = client.post(f"/contacts/{contact.id}/edit", data=form)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Jemand anderes hat diesen Datensatz gespeichert" in html
    assert "Jonas Weber" in html and "Berater → Geschäftsführer" in html
    assert 'value="Leiter Einkauf"' in html, "her entries are kept"
    new_version = re.search(r'name="version" type="hidden" value="(\d+)"', html)[1]
    assert int(new_version) == int(version) + 1
    db.session.expire_all()
    assert db.session.get(Contact, contact.id).position == "Geschäftsführer", "nothing saved"
    fresh = re.search(r'name="loaded_at" type="hidden" value="([^"]+)"', html)[1]
    again = client.post(f"/contacts/{contact.id}/edit",
                        data={**form, "version": new_version, "loaded_at": fresh})
    assert again.status_code == 302
    db.session.expire_all()
    assert db.session.get(Contact, contact.id).position == "Leiter Einkauf"
    assert lea.id != jonas.id
