"""Organisations, contacts and events through the JSON API: the contract's five endpoints each,
the services' rules seen from a client, and every answer checked against the OpenAPI document."""

import pytest
import sqlalchemy as sa

from crm.audit.models import AuditEntry
from crm.auth import services as auth_services
from crm.extensions import db
from crm.organisations import services as organisation_services
from tests.api.conftest import make_api
from tests.factories import (
    make_activity,
    make_contact,
    make_event,
    make_lead,
    make_organisation,
    make_user,
)


def names(body):
    return sorted(item.get("name") or item["last_name"] for item in body["items"])


def audit_entries(action):
    db.session.expire_all()
    return db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)).all()


def error_fields(response):
    return set(response.json["error"]["fields"])


# Organisations.


def test_an_organisation_is_created_read_and_audited_as_the_tokens_user(api):
    body = {"name": "OptoNet e.V.", "kind": "partner", "country": "de", "city": "Jena",
            "website": "www.optonet-jena.de", "sectors": ["optics_photonics", "sensors"],
            "tags": ["Netzwerk"], "description": "Kompetenznetz\nOptik und Photonik"}
    response = api.post("/api/v1/organisations", body, canonical=False)
    assert response.status_code == 201
    created = response.json
    assert response.headers["Location"] == f"/api/v1/organisations/{created['id']}"
    assert created["country"] == "DE" and created["website"] == "https://www.optonet-jena.de"
    assert created["sectors"] == ["optics_photonics", "sensors"] and created["version"] == 1
    assert created["parent_id"] is None and created["deleted_at"] is None
    read = api.get(response.headers["Location"])
    assert read.status_code == 200 and read.json == created
    [entry] = audit_entries("organisation.create")
    assert entry.actor_id == api.user.id and entry.record_id == created["id"]


def test_a_new_organisation_needs_only_a_name(api):
    response = api.post("/api/v1/organisations", {"name": "Samsung Electronics"})
    assert response.status_code == 201 and response.json["kind"] == "other"


def test_organisations_are_listed_filtered_and_searched(api):
    make_organisation(name="Müller Optik GmbH", country="DE", sectors=["optics_photonics"],
                      tags=["Aftercare"])
    make_organisation(name="현대자동차", country="KR", sectors=["automotive"])
    make_organisation(name="Germany Trade & Invest", kind="public_body", country="DE")
    gone = make_organisation(name="Gelöscht GmbH")
    organisation_services.delete_organisation(gone, actor=None)
    db.session.commit()

    def listed(query):
        response = api.get(f"/api/v1/organisations?{query}")
        assert response.status_code == 200
        return names(response.json)

    assert listed("") == sorted(["Müller Optik GmbH", "현대자동차", "Germany Trade & Invest"])
    assert listed("q=muller") == listed("q=MUELLER") == ["Müller Optik GmbH"]
    assert listed("q=현대") == ["현대자동차"]
    assert listed("kind=public_body") == ["Germany Trade & Invest"]
    assert listed("country=KR") == listed("country=kr") == ["현대자동차"]
    assert listed("sector=optics_photonics&country=DE") == ["Müller Optik GmbH"]
    assert listed("tag=Aftercare") == ["Müller Optik GmbH"]
    assert listed("q=nothing+like+this") == []


def test_organisations_are_paged_by_id_with_a_cursor(api):
    created = [make_organisation(name=f"Firma {n}").id for n in range(7)]
    items, pages = api.all_pages("/api/v1/organisations", limit=3)
    assert [item["id"] for item in items] == sorted(created) and pages == 3
    first = api.get("/api/v1/organisations?limit=7").json
    assert len(first["items"]) == 7 and first["next_cursor"] is None
    default = api.get("/api/v1/organisations").json
    assert len(default["items"]) == 7 and default["next_cursor"] is None


def test_paging_keeps_the_filters(api):
    for n in range(5):
        make_organisation(name=f"Investor {n}")
        make_organisation(name=f"Partner {n}", kind="partner")
    items, pages = api.all_pages("/api/v1/organisations?kind=partner", limit=2)
    assert [i["name"] for i in items] == [f"Partner {n}" for n in range(5)] and pages == 3


def test_an_organisation_is_changed_with_the_version_last_seen(api):
    organisation = make_organisation(name="OptoNet e.V.", kind="partner")
    url = f"/api/v1/organisations/{organisation.id}"
    response = api.patch(url, {"version": 1, "city": "Jena", "sectors": ["optics_photonics"]})
    assert response.status_code == 200
    assert response.json["city"] == "Jena" and response.json["version"] == 2
    assert response.json["name"] == "OptoNet e.V."  # fields not sent keep their values
    [entry] = audit_entries("organisation.update")
    assert entry.actor_id == api.user.id and entry.changes["city"] == [None, "Jena"]

    stale = api.patch(url, {"version": 1, "city": "Erfurt"})
    assert stale.status_code == 409 and stale.json["error"]["code"] == "conflict"
    assert "version" in error_fields(stale)
    assert api.get(url).json["city"] == "Jena"

    missing = api.patch(url, {"city": "Erfurt"})
    assert missing.status_code == 422 and error_fields(missing) == {"version"}
    for version in ("2", 2.0, True, None):
        wrong = api.patch(url, {"version": version, "city": "Erfurt"})
        assert wrong.status_code == 422 and error_fields(wrong) == {"version"}, version


def test_a_deleted_organisation_is_gone_for_members_but_admins_may_read_it(app, api, spec):
    organisation = make_organisation(name="Weg GmbH")
    url = f"/api/v1/organisations/{organisation.id}"
    response = api.delete(url)
    assert response.status_code == 204
    assert api.get(url).status_code == 404
    assert api.patch(url, {"version": 1, "city": "Jena"}).status_code == 404
    assert api.delete(url).status_code == 404
    assert api.get("/api/v1/organisations").json["items"] == []
    [entry] = audit_entries("organisation.delete")
    assert entry.actor_id == api.user.id
    admin = make_api(app, spec, role="admin")
    seen = admin.get(url)
    assert seen.status_code == 200 and seen.json["deleted_at"] is not None


def test_a_likely_duplicate_organisation_needs_confirmation(api):
    existing = make_organisation(name="Jenoptik AG")
    response = api.post("/api/v1/organisations", {"name": "JENOPTIK GmbH"})
    assert response.status_code == 409
    error = response.json["error"]
    assert error["code"] == "duplicate" and "name" in error["fields"]
    assert error["duplicates"] == [{"id": existing.id, "name": "Jenoptik AG"}]
    api.spec.validate({"$ref": "#/components/schemas/DuplicateError"}, response.json)
    assert len(api.get("/api/v1/organisations").json["items"]) == 1
    confirmed = api.post("/api/v1/organisations?allow_duplicate=true", {"name": "JENOPTIK GmbH"})
    assert confirmed.status_code == 201
    other = make_organisation(name="Carl Zeiss AG")
    renamed = api.patch(f"/api/v1/organisations/{other.id}", {"version": 1, "name": "Jenoptik"})
    assert renamed.status_code == 409 and renamed.json["error"]["code"] == "duplicate"
    assert api.patch(f"/api/v1/organisations/{other.id}?allow_duplicate=1",
                     {"version": 1, "name": "Jenoptik"}).status_code == 200


def test_an_organisation_cannot_belong_to_itself(api):
    parent = make_organisation(name="Konzern AG")
    child = make_organisation(name="Tochter GmbH", parent_id=parent.id)
    response = api.patch(f"/api/v1/organisations/{parent.id}",
                         {"version": parent.version, "parent_id": child.id})
    assert response.status_code == 422 and error_fields(response) == {"parent_id"}


@pytest.mark.parametrize(("body", "fields"), [
    ({"name": "X", "website": "javascript:alert(1)"}, {"website"}),
    ({"name": "X", "website": "data:text/html,<script>alert(1)</script>"}, {"website"}),
    ({"name": "X", "country": "XX"}, {"country"}),
    ({"name": "X", "country": "Deutschland"}, {"country"}),
    ({"name": 42}, {"name"}),
    ({"name": ""}, {"name"}),
    ({"name": None}, {"name"}),
    ({"name": ["Jenoptik"]}, {"name"}),
    ({"name": {"de": "Jenoptik"}}, {"name"}),
    ({"name": "X", "kind": ["investor"]}, {"kind"}),
    ({"name": "X", "kind": "bank"}, {"kind"}),
    ({"name": "X", "sectors": "automotive"}, {"sectors"}),
    ({"name": "X", "sectors": ["automotive", "banking"]}, {"sectors"}),
    ({"name": "X", "sectors": [["automotive"]]}, {"sectors"}),
    ({"name": "X", "tags": ["x" * 51]}, {"tags"}),
    ({"name": "X", "parent_id": "eins"}, {"parent_id"}),
    ({"name": "X", "parent_id": 2**40}, {"parent_id"}),
    ({"name": "X", "parent_id": 999}, {"parent_id"}),
    ({"name": "X\x00Y"}, {"name"}),
    ({"name": "x" * 1_000_000}, {"name"}),
    ({"name": "X", "description": "x" * 1_000_000}, {"description"}),
    ({"name": "X", "colour": "blue", "Name": "Y"}, {"colour", "Name"}),
    ({"name": "X", "id": 5, "version": 3, "created_at": "2026-01-01"},
     {"id", "version", "created_at"}),
], ids=lambda v: repr(v)[:40] if isinstance(v, dict) else None)
def test_bad_organisation_data_is_a_422_naming_the_fields(api, body, fields):
    response = api.post("/api/v1/organisations", body)
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "invalid" and error_fields(response) == fields
    assert api.get("/api/v1/organisations").json["items"] == []
    assert audit_entries("organisation.create") == []


# Bodies that are not JSON objects, and addresses that name no record.


@pytest.mark.parametrize("raw", [
    b"", b"{", b'{"name": "X",}', b"name=X", b"[]", b'"OptoNet"', b"null", b"42",
    b'{"name": "\\ud800"}', b"\xff\xfe{}", b"[" * 100_000 + b"]" * 100_000,
    b'{"name": ' + b"9" * 5000 + b"}",
])
@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_a_body_that_is_not_a_json_object_is_a_400(api, raw, method):
    organisation = make_organisation(name="Vorhanden GmbH")
    url = ("/api/v1/organisations" if method == "POST"
           else f"/api/v1/organisations/{organisation.id}")
    response = api.open(method, url, raw=raw)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "bad_request"


def test_a_body_over_the_size_limit_is_a_json_413(app_factory, spec):
    app = app_factory(MAX_CONTENT_LENGTH=10_000)
    with app.app_context():
        api = make_api(app, spec)
        response = api.post("/api/v1/organisations", {"name": "X", "description": "x" * 20_000})
        assert response.status_code == 413 and response.json["error"]["code"] == "too_large"


@pytest.mark.parametrize("path", [
    "/api/v1/organisations/abc", "/api/v1/organisations/0", "/api/v1/organisations/-1",
    "/api/v1/organisations/1.5", "/api/v1/organisations/99999999999999999999",
    "/api/v1/organisations/2147483648", "/api/v1/contacts/%F0%9F%A6%94",
    "/api/v1/events/1e3", "/api/v1/events/999",
])
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_an_impossible_or_unknown_id_is_a_404(api, path, method):
    body = {"version": 1} if method == "PATCH" else None
    response = api.open(method, path, body)
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


# List arguments.


@pytest.mark.parametrize(("query", "field"), [
    ("limit=0", "limit"), ("limit=201", "limit"), ("limit=abc", "limit"), ("limit=-5", "limit"),
    ("limit=" + "9" * 5000, "limit"), ("limit=%EF%BC%95", "limit"),
    ("cursor=abc", "cursor"), ("cursor=eyJhZnRlciI6IC0xfQ", "cursor"), ("cursor=%FF", "cursor"),
    ("cursor=" + "A" * 500, "cursor"), ("cursor=W10", "cursor"),
    ("kind=xyz", "kind"), ("country=XX", "country"), ("sector=banking", "sector"),
    ("tag=" + "x" * 51, "tag"), ("q=" + "x" * 201, "q"),
    ("page=2", "page"), ("kind=investor&kind=partner", "kind"),
])
def test_a_bad_list_argument_is_a_400_naming_it(api, query, field):
    response = api.get(f"/api/v1/organisations?{query}")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "bad_request" and error_fields(response) == {field}


@pytest.mark.parametrize(("resource", "query", "field"), [
    ("contacts", "organisation=abc", "organisation"), ("contacts", "owner=0", "owner"),
    ("contacts", "language=klingon", "language"), ("contacts", "event=-1", "event"),
    ("events", "kind=party", "kind"), ("events", "trip=x", "trip"),
    ("events", "year=99", "year"), ("events", "year=2500", "year"),
    ("events", "country=EU", "country"),
])
def test_bad_filters_of_contacts_and_events_are_a_400(api, resource, query, field):
    response = api.get(f"/api/v1/{resource}?{query}")
    assert response.status_code == 400 and error_fields(response) == {field}


def test_unknown_parameters_on_writes_are_a_400(api):
    response = api.post("/api/v1/events?allow_duplicate=true",
                        {"name": "X", "kind": "webinar", "starts_on": "2025-01-01"})
    assert response.status_code == 400 and error_fields(response) == {"allow_duplicate"}
    response = api.post("/api/v1/organisations?allow_duplicate=perhaps", {"name": "X"})
    assert response.status_code == 400 and error_fields(response) == {"allow_duplicate"}


# Contacts.


def test_a_contact_is_created_with_the_contracts_defaults(app, api):
    organisation = make_organisation(name="Samsung Electronics")
    body = {"first_name": "민정", "last_name": "김", "latin_name": "Kim Min-jung",
            "academic_title": "Dr.", "email": "MJ.Kim@Example.KR", "phone": "+82 2 2123 4567",
            "mobile": "0171 1234567", "language": "ko", "position": "Head of Investment",
            "affiliations": [{"organisation_id": organisation.id, "role": "Head of Investment"}],
            "source": "Business breakfast Seoul", "tags": "VIP, Korea"}
    response = api.post("/api/v1/contacts", body, canonical=False)
    assert response.status_code == 201
    contact = response.json
    assert contact["display_name"] == "Dr. 김민정"
    assert contact["email"] == "mj.kim@example.kr"
    assert contact["phone"] == "+82221234567" and contact["mobile"] == "+491711234567"
    assert contact["owner_id"] == api.user.id and contact["legal_basis"] == "public_task"
    assert contact["affiliations"] == [{"organisation_id": organisation.id,
                                        "role": "Head of Investment", "is_current": True}]
    assert contact["tags"] == ["Korea", "VIP"]
    assert api.get(response.headers["Location"]).json == contact
    [entry] = audit_entries("contact.create")
    assert entry.actor_id == api.user.id


def test_contacts_are_listed_filtered_and_searched(api):
    owner = make_user(name="Lea Schäfer")
    samsung = make_organisation(name="Samsung Electronics")
    kim = make_contact(last_name="김", first_name="민정", latin_name="Kim Min-jung", language="ko",
                       affiliations=[{"organisation_id": samsung.id}])
    make_contact(last_name="Müller", first_name="Jürgen", owner_id=owner.id, tags=["Presse"])
    make_contact(last_name="Wójcik", first_name="Anna", language="pl")
    trip = make_event(name="Delegationsreise Seoul", kind="trip", starts_on="2025-05-18",
                      ends_on="2025-05-24", attendees=[{"contact_id": kim.id, "status": "met"}])

    def listed(query):
        response = api.get(f"/api/v1/contacts?{query}")
        assert response.status_code == 200
        return names(response.json)

    assert listed("") == ["Müller", "Wójcik", "김"]
    assert listed("q=muller") == listed("q=Mueller") == listed("q=MÜLLER") == ["Müller"]
    assert listed("q=wojcik") == ["Wójcik"]
    assert listed("q=김") == listed("q=민정") == listed("q=kim+min") == ["김"]
    assert listed(f"organisation={samsung.id}") == ["김"]
    assert listed(f"owner={owner.id}") == listed("tag=Presse") == ["Müller"]
    assert listed("language=pl") == ["Wójcik"]
    assert listed(f"event={trip.id}") == ["김"]
    assert listed(f"organisation={samsung.id}&language=pl") == []


def test_contacts_are_paged_and_changed_with_versions(api):
    created = [make_contact(last_name=f"Person {n}").id for n in range(5)]
    items, pages = api.all_pages("/api/v1/contacts", limit=2)
    assert [i["id"] for i in items] == created and pages == 3
    url = f"/api/v1/contacts/{created[0]}"
    changed = api.patch(url, {"version": 1, "position": "CEO", "email": "ceo@example.com"})
    assert changed.status_code == 200 and changed.json["version"] == 2
    assert changed.json["position"] == "CEO"
    stale = api.patch(url, {"version": 1, "position": "CTO"})
    assert stale.status_code == 409 and stale.json["error"]["code"] == "conflict"
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404
    assert created[0] not in [i["id"] for i in api.all_pages("/api/v1/contacts", limit=50)[0]]


def test_a_contact_with_a_known_email_needs_confirmation(api):
    existing = make_contact(last_name="Weber", first_name="Jonas", email="jonas@example.com")
    response = api.post("/api/v1/contacts", {"last_name": "Weber", "email": "JONAS@example.com"})
    assert response.status_code == 409 and response.json["error"]["code"] == "duplicate"
    assert response.json["error"]["duplicates"] == [{"id": existing.id, "name": "Jonas Weber"}]
    assert error_fields(response) == {"email"}
    assert api.post("/api/v1/contacts?allow_duplicate=true",
                    {"last_name": "Weber", "email": "jonas@example.com"}).status_code == 201


def test_affiliations_given_in_a_patch_replace_the_old_ones(api):
    old, new = make_organisation(name="Alt GmbH"), make_organisation(name="Neu GmbH")
    contact = make_contact(last_name="Weber", affiliations=[{"organisation_id": old.id}])
    response = api.patch(f"/api/v1/contacts/{contact.id}", {
        "version": 1, "affiliations": [{"organisation_id": old.id, "is_current": False},
                                       {"organisation_id": new.id, "role": "CFO"}]})
    assert response.status_code == 200
    assert response.json["affiliations"] == [
        {"organisation_id": new.id, "role": "CFO", "is_current": True},
        {"organisation_id": old.id, "role": None, "is_current": False}]


@pytest.mark.parametrize(("body", "fields"), [
    ({"last_name": "X", "email": "not an email"}, {"email"}),
    ({"last_name": "X", "email": "a@b@c.de"}, {"email"}),
    ({"last_name": "X", "phone": "12"}, {"phone"}),
    ({"last_name": "X", "phone": "call me"}, {"phone"}),
    ({"last_name": "X", "mobile": 491711234567}, {"mobile"}),
    ({"first_name": "Anna"}, {"last_name"}),
    ({"last_name": "X", "language": "xx"}, {"language"}),
    ({"last_name": "X", "language": ["de"]}, {"language"}),
    ({"last_name": "X", "legal_basis": "because"}, {"legal_basis"}),
    ({"last_name": "X", "owner_id": 999}, {"owner_id"}),
    ({"last_name": "X", "affiliations": [{"organisation_id": 999}]}, {"affiliations"}),
    ({"last_name": "X", "affiliations": [{"role": "CEO"}]}, {"affiliations"}),
    ({"last_name": "X", "affiliations": [{"organisation_id": 1, "boss": True}]},
     {"affiliations"}),
    ({"last_name": "X", "affiliations": "Jenoptik"}, {"affiliations"}),
    ({"last_name": "X", "position": "x" * 1_000_000}, {"position"}),
    ({"last_name": "X", "display_name": "Y"}, {"display_name"}),
    ({"last_name": "X", "emails": ["x@example.com"]}, {"emails"}),
], ids=lambda v: repr(v)[:40] if isinstance(v, dict) else None)
def test_bad_contact_data_is_a_422_naming_the_fields(api, body, fields):
    response = api.post("/api/v1/contacts", body)
    assert response.status_code == 422, response.json
    assert error_fields(response) == fields
    assert api.get("/api/v1/contacts").json["items"] == []


# Events.


def test_a_trip_and_an_event_within_it(api):
    partner = make_organisation(name="Germany Trade & Invest", kind="public_body")
    contact = make_contact(last_name="Kim")
    response = api.post("/api/v1/events", {
        "name": "Delegationsreise Seoul und Gyeonggi-do", "kind": "trip",
        "starts_on": "2025-05-18", "ends_on": "2025-05-24", "country": "KR",
        "team_member_ids": [api.user.id]})
    assert response.status_code == 201
    trip = response.json
    assert trip["starts_on"] == "2025-05-18" and trip["team_member_ids"] == [api.user.id]
    response = api.post("/api/v1/events", {
        "name": "Business Breakfast Seoul", "kind": "business_breakfast",
        "starts_on": "2025-05-20", "city": "Seoul", "country": "KR", "parent_id": trip["id"],
        "partner_ids": [partner.id], "attendees": [{"contact_id": contact.id, "status": "met"}]})
    assert response.status_code == 201
    breakfast = response.json
    assert breakfast["ends_on"] == "2025-05-20" and breakfast["parent_id"] == trip["id"]
    assert breakfast["partner_ids"] == [partner.id]
    assert breakfast["attendees"] == [{"contact_id": contact.id, "status": "met"}]
    assert api.get(response.headers["Location"]).json == breakfast
    assert [entry.actor_id for entry in audit_entries("event.create")] == [api.user.id] * 2


def test_an_events_cost_is_written_read_and_cleared(api):
    response = api.post("/api/v1/events", {
        "name": "Delegationsreise Seoul", "kind": "trip", "starts_on": "2025-05-18",
        "ends_on": "2025-05-24", "cost_eur": 38500})
    assert response.status_code == 201 and response.json["cost_eur"] == 38_500
    url = response.headers["Location"]
    assert api.get(url).json["cost_eur"] == 38_500
    changed = api.patch(url, {"version": 1, "cost_eur": "42.000 €"})
    assert changed.status_code == 200 and changed.json["cost_eur"] == 42_000
    refused = api.patch(url, {"version": 2, "cost_eur": -5, "city": "Seoul"})
    assert refused.status_code == 422 and error_fields(refused) == {"cost_eur"}
    unchanged = api.get(url).json
    assert (unchanged["cost_eur"], unchanged["city"], unchanged["version"]) == (42_000, None, 2)
    cleared = api.patch(url, {"version": 2, "cost_eur": None})
    assert cleared.status_code == 200 and cleared.json["cost_eur"] is None
    assert [entry.changes for entry in audit_entries("event.update")] == [
        {"cost_eur": [38_500, 42_000]}, {"cost_eur": [42_000, None]}]
    # An event without a cost shows null.
    response = api.post("/api/v1/events", {"name": "Webinar", "kind": "webinar",
                                           "starts_on": "2025-06-03"})
    assert response.json["cost_eur"] is None


def test_events_are_listed_filtered_and_searched(api):
    trip = make_event(name="Delegationsreise USA", kind="trip", starts_on="2024-10-06",
                      ends_on="2024-10-12", country="US")
    make_event(name="Networking Boston", kind="networking", starts_on="2024-10-08",
               parent_id=trip.id, city="Boston", country="US")
    make_event(name="Investorenseminar Düsseldorf", starts_on="2025-03-05", country="DE")
    make_event(name="서울 투자 세미나", starts_on="2025-05-21", country="KR")

    def listed(query):
        response = api.get(f"/api/v1/events?{query}")
        assert response.status_code == 200
        return names(response.json)

    assert len(listed("")) == 4
    assert listed("q=dusseldorf") == listed("q=DUESSELDORF") == ["Investorenseminar Düsseldorf"]
    assert listed("q=서울") == ["서울 투자 세미나"]
    assert listed("q=boston") == ["Networking Boston"]  # the city is searched too
    assert listed("kind=trip") == ["Delegationsreise USA"]
    assert listed("country=US&kind=networking") == ["Networking Boston"]
    assert listed(f"trip={trip.id}") == ["Delegationsreise USA", "Networking Boston"]
    assert listed("year=2025") == ["Investorenseminar Düsseldorf", "서울 투자 세미나"]


def test_events_are_paged_changed_and_deleted(api):
    created = [make_event(name=f"Webinar {n}", kind="webinar").id for n in range(4)]
    items, pages = api.all_pages("/api/v1/events", limit=3)
    assert [i["id"] for i in items] == created and pages == 2
    url = f"/api/v1/events/{created[1]}"
    changed = api.patch(url, {"version": 1, "ends_on": "2025-05-21", "team_member_ids": [
        api.user.id]})
    assert changed.status_code == 200 and changed.json["ends_on"] == "2025-05-21"
    assert api.patch(url, {"version": 1, "name": "Alt"}).status_code == 409
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404
    assert [i["id"] for i in api.get("/api/v1/events").json["items"]] == [
        created[0], created[2], created[3]]


def test_event_dates_and_trips_follow_the_rules(api):
    trip = make_event(name="Reise Seoul", kind="trip", starts_on="2025-05-18", ends_on="2025-05-24")

    def refused(body, method="POST", url="/api/v1/events"):
        response = api.open(method, url, body)
        assert response.status_code == 422, response.json
        return error_fields(response)

    base = {"name": "Frühstück", "kind": "business_breakfast"}
    assert refused({**base, "starts_on": "2025-05-20", "ends_on": "2025-05-19"}) == {"ends_on"}
    assert refused({**base, "starts_on": "2025-06-01", "parent_id": trip.id}) == {"starts_on"}
    assert refused({**base, "starts_on": "2025-05-24", "ends_on": "2025-05-25",
                    "parent_id": trip.id}) == {"starts_on"}
    assert refused({"version": trip.version, "parent_id": trip.id}, "PATCH",
                   f"/api/v1/events/{trip.id}") == {"parent_id"}
    other = make_event(name="Andere Reise", kind="trip", starts_on="2025-05-18",
                       ends_on="2025-05-24")
    assert refused({"version": trip.version, "parent_id": other.id}, "PATCH",
                   f"/api/v1/events/{trip.id}") == {"parent_id"}
    inside = make_event(name="Visite", kind="company_visit", starts_on="2025-05-22",
                        parent_id=trip.id)
    assert refused({"version": trip.version, "ends_on": "2025-05-21"}, "PATCH",
                   f"/api/v1/events/{trip.id}") == {"starts_on"}
    assert refused({"version": inside.version, "parent_id": inside.id}, "PATCH",
                   f"/api/v1/events/{inside.id}") == {"parent_id"}


@pytest.mark.parametrize(("body", "fields"), [
    ({"kind": "webinar", "starts_on": "2025-05-20"}, {"name"}),
    ({"name": "X", "starts_on": "2025-05-20"}, {"kind"}),
    ({"name": "X", "kind": "webinar"}, {"starts_on"}),
    ({"name": "X", "kind": "webinar", "starts_on": "2025-02-30"}, {"starts_on"}),
    ({"name": "X", "kind": "webinar", "starts_on": 20250520}, {"starts_on"}),
    ({"name": "X", "kind": "webinar", "starts_on": "tomorrow"}, {"starts_on"}),
    ({"name": "X", "kind": "webinar", "starts_on": "2025-05-20", "country": "XX"}, {"country"}),
    ({"name": "X", "kind": "webinar", "starts_on": "2025-05-20", "partner_ids": "1"},
     {"partner_ids"}),
    ({"name": "X", "kind": "webinar", "starts_on": "2025-05-20", "partner_ids": [999]},
     {"partner_ids"}),
    ({"name": "X", "kind": "webinar", "starts_on": "2025-05-20", "team_member_ids": [999]},
     {"team_member_ids"}),
    ({"name": "X", "kind": "webinar", "starts_on": "2025-05-20",
      "attendees": [{"contact_id": 1, "status": ["met"]}]}, {"attendees"}),
    ({"name": "X", "kind": "webinar", "starts_on": "2025-05-20",
      "attendees": [{"contact_id": 999}]}, {"attendees"}),
    ({"name": "X", "kind": "webinar", "starts_on": "2025-05-20",
      "attendees": [{"contact_id": 1, "status": "danced"}]}, {"attendees"}),
    ({"name": "X", "kind": "webinar", "starts_on": "2025-05-20", "attendee_ids": [1]},
     {"attendee_ids"}),
    ({"name": "X", "kind": "webinar", "starts_on": "2025-05-20",
      "description": "x" * 1_000_000}, {"description"}),
    *(({"name": "X", "kind": "webinar", "starts_on": "2025-05-20", "cost_eur": cost},
       {"cost_eur"}) for cost in (-5, "-5", "abc", "1e9", 1e9, 10**12, 100_000_001, True, [2400],
                                  "2.400,50")),
], ids=lambda v: repr(v)[-40:] if isinstance(v, dict) else None)
def test_bad_event_data_is_a_422_naming_the_fields(api, body, fields):
    make_contact(last_name="Kim")
    response = api.post("/api/v1/events", body)
    assert response.status_code == 422, response.json
    assert error_fields(response) == fields
    assert api.get("/api/v1/events").json["items"] == []


# Access, and the number of queries.


@pytest.mark.parametrize("method", ["GET", "POST", "PATCH", "DELETE"])
@pytest.mark.parametrize("path", ["/api/v1/organisations", "/api/v1/contacts", "/api/v1/events"])
def test_without_a_token_nothing_is_read_or_written(app, spec, path, method):
    organisation = make_organisation(name="Geheim GmbH")
    url = path if method in ("GET", "POST") else f"{path}/{organisation.id}"
    response = app.test_client().open(url, method=method, json={"name": "X", "version": 1})
    assert response.status_code == 401
    spec.check_response(method, url, response)
    assert audit_entries("organisation.update") == audit_entries("organisation.delete") == []


def fill(resource, count):
    """`count` records of `resource`, each with the related rows its JSON shows."""
    users = [make_user(), make_user()]
    partners = [make_organisation(name=f"Partner {n}", kind="partner", sectors=["automotive"],
                                  tags=["A", "B"]) for n in range(2)]
    people = [make_contact(last_name=f"Gast {n}", tags=["Gast"],
                           affiliations=[{"organisation_id": p.id} for p in partners])
              for n in range(2)]
    for n in range(count - 2 if resource != "events" else count):
        if resource == "organisations":
            make_organisation(name=f"Firma {n}", sectors=["sensors", "energy"], tags=["X", "Y"],
                              parent_id=partners[0].id)
        elif resource == "contacts":
            make_contact(last_name=f"Person {n}", tags=["X"], owner_id=users[n % 2].id,
                         affiliations=[{"organisation_id": p.id, "role": "CEO"}
                                       for p in partners])
        else:
            make_event(name=f"Event {n}", partner_ids=[p.id for p in partners],
                       team_member_ids=[u.id for u in users],
                       attendees=[{"contact_id": c.id, "status": "met"} for c in people])


@pytest.mark.parametrize("resource", ["organisations", "contacts", "events"])
def test_a_list_runs_the_same_queries_for_10_and_60_records(app, spec, count_queries, resource):
    api = make_api(app, spec)
    api.get("/api/v1/me")  # the token's first use is recorded once; not part of the count
    counts = []
    for total in (10, 60):
        fill(resource, total - len(api.get(f"/api/v1/{resource}?limit=200").json["items"]))
        with count_queries() as statements:
            body = api.get(f"/api/v1/{resource}?limit=200").json
        assert len(body["items"]) == total
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 6


def test_a_website_with_a_broken_ipv6_address_is_a_422(api):
    response = api.post("/api/v1/organisations", {"name": "X", "website": "http://[abc"})
    assert response.status_code == 422
    assert "website" in response.json["error"]["fields"]


def test_records_stay_editable_after_what_they_refer_to_is_gone(api):
    """A deleted organisation, a deactivated owner or a deleted partner blocks no later edit;
    only what an edit adds is checked."""
    make_user(role="admin")
    organisation = make_organisation(name="Bald weg GmbH")
    owner = make_user()
    contact = make_contact(last_name="Weber", owner_id=owner.id,
                           affiliations=[{"organisation_id": organisation.id}])
    event = make_event(partner_ids=[organisation.id], team_member_ids=[owner.id])
    subsidiary = make_organisation(name="Tochter", parent_id=organisation.id)
    organisation_services.delete_organisation(organisation, actor=None)
    auth_services.deactivate_user(owner, actor=None)
    db.session.commit()
    response = api.patch(f"/api/v1/contacts/{contact.id}", {"version": 1, "position": "CEO"})
    assert response.status_code == 200, response.json
    response = api.patch(f"/api/v1/events/{event.id}", {"version": 1, "city": "Seoul"})
    assert response.status_code == 200, response.json
    response = api.patch(f"/api/v1/organisations/{subsidiary.id}", {"version": 1, "city": "Jena"})
    assert response.status_code == 200, response.json
    # Adding a deleted organisation is still refused.
    other = make_contact(last_name="Neu")
    response = api.patch(f"/api/v1/contacts/{other.id}", {
        "version": 1, "affiliations": [{"organisation_id": organisation.id}]})
    assert response.status_code == 422


def test_a_deactivated_users_token_cannot_write(app, spec):
    make_user(role="admin")
    api = make_api(app, spec)
    auth_services.deactivate_user(api.user, actor=None)
    db.session.commit()
    response = api.post("/api/v1/organisations", {"name": "X"})
    assert response.status_code == 401


def test_the_cursor_is_opaque_and_continues_after_the_last_record_seen(api):
    first, second = make_organisation(name="A"), make_organisation(name="B")
    cursor = api.get("/api/v1/organisations?limit=1").json["next_cursor"]
    assert cursor and not cursor.isdecimal()
    # A record deleted meanwhile does not make the next page skip or repeat one.
    organisation_services.delete_organisation(first, actor=None)
    db.session.commit()
    page = api.get(f"/api/v1/organisations?limit=1&cursor={cursor}").json
    assert [i["id"] for i in page["items"]] == [second.id] and page["next_cursor"] is None


@pytest.mark.parametrize("segment", ["organisations", "contacts", "events", "leads",
                                     "activities"])
def test_an_admin_restores_a_deleted_record_through_the_api(app, spec, segment):
    admin, member = make_api(app, spec, role="admin"), make_api(app, spec, role="member")
    record = {"organisations": lambda: make_organisation(name="Weg und wieder da GmbH"),
              "contacts": make_contact, "events": make_event,
              "leads": lambda: make_lead(actor=admin.user),
              "activities": lambda: make_activity(actor=admin.user)}[segment]()
    db.session.commit()
    url = f"/api/v1/{segment}/{record.id}"
    assert admin.delete(url).status_code == 204
    assert member.get(url).status_code == 404
    assert member.post(url + "/restore").status_code == 403
    restored = admin.post(url + "/restore")
    assert restored.status_code == 200 and restored.json["id"] == record.id
    assert member.get(url).status_code == 200
    assert admin.post(url + "/restore").status_code == 200, "restoring again changes nothing"
    assert admin.post(f"/api/v1/{segment}/999999/restore").status_code == 404


def test_dates_are_iso_8601_in_every_answer(api):
    """A date the services keep as a date (not text) comes back as 2025-05-21, never as an
    HTTP date (Flask's own JSON would write "Wed, 21 May 2025 00:00:00 GMT")."""
    created = api.post("/api/v1/contacts", {"last_name": "Kim", "informed_on": "21.05.2025"},
                       canonical=False)
    assert created.status_code == 201 and created.json["informed_on"] == "2025-05-21"
    again = api.get(f"/api/v1/contacts/{created.json['id']}")
    assert again.json["informed_on"] == "2025-05-21"


def test_an_empty_tag_in_a_list_is_refused_and_empty_pieces_of_a_text_left_out(api):
    refused = api.post("/api/v1/organisations", {"name": "Leere Marke GmbH", "tags": ["Netz", " "]})
    assert refused.status_code == 422 and "tags" in refused.json["error"]["fields"]
    too_many = api.post("/api/v1/organisations",
                        {"name": "Viele Marken GmbH", "tags": ["a", "A", *map(str, range(19))]})
    assert too_many.status_code == 422 and "tags" in too_many.json["error"]["fields"]
    created = api.post("/api/v1/organisations", {"name": "Textmarke GmbH", "tags": "Netz, ,Optik"})
    assert created.status_code == 201 and created.json["tags"] == ["Netz", "Optik"]
