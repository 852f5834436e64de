"""Notes and follow-ups through the JSON API: recording them on any record, ticking them off,
the list's filters and paging, who sees and changes what, and bad input, every answer checked
against the OpenAPI document."""

from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from crm.activities import services as activity_services
from crm.activities.models import Activity
from crm.audit.models import AuditEntry
from crm.auth import services as auth_services
from crm.contacts import services as contact_services
from crm.core.models import utcnow
from crm.events import services as event_services
from crm.extensions import db
from crm.leads import services as lead_services
from crm.organisations import services as organisation_services
from tests.api.conftest import make_api
from tests.factories import make_contact, make_event, make_lead, make_organisation, make_user

SUBJECT_KINDS = ("organisation", "contact", "event", "lead")


def note(actor, *, commit=True, **overrides):
    """An activity by `actor` (a note on a new contact unless the overrides name a record)."""
    data = {"body": "Notiz"}
    data.update(overrides)
    if not any(kind in data for kind in SUBJECT_KINDS):
        data["contact"] = make_contact(commit=False)
    activity = activity_services.create_activity(actor=actor, **data)
    if commit:
        db.session.commit()
    return activity


def make_subject(kind, actor=None):
    if kind == "organisation":
        return make_organisation(name="OptoNet e.V.", kind="partner")
    if kind == "contact":
        return make_contact(last_name="Kim", first_name="Min-jung")
    if kind == "event":
        return make_event(name="Business Breakfast Seoul", starts_on="2025-05-20")
    return make_lead(actor=actor, title="Sensorwerk Thüringen")


def fresh(activity):
    db.session.expire_all()
    return db.session.get(Activity, activity.id)


def audit_entries(action):
    db.session.expire_all()
    return db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)
                              .order_by(AuditEntry.id)).all()


def error_fields(response):
    return set(response.json["error"]["fields"])


def bodies(response):
    assert response.status_code == 200, response.json
    return sorted(item["body"] for item in response.json["items"])


def stored_activities():
    db.session.expire_all()
    return db.session.scalars(sa.select(Activity)).all()


@pytest.fixture
def member(app, spec):
    return make_api(app, spec, name="Lea Schäfer")


@pytest.fixture
def manager(app, spec):
    return make_api(app, spec, role="manager", name="Holger Heyer")


# Recording.


@pytest.mark.parametrize("kind", SUBJECT_KINDS)
def test_an_activity_is_recorded_on_each_kind_of_record(member, kind):
    subject = make_subject(kind, actor=member.user)
    before = utcnow()
    response = member.post("/api/v1/activities", {"body": "Kurz gesprochen.",
                                                   f"{kind}_id": subject.id})
    assert response.status_code == 201, response.json
    activity = response.json
    assert response.headers["Location"] == f"/api/v1/activities/{activity['id']}"
    assert activity["kind"] == "note" and activity["body"] == "Kurz gesprochen."
    assert activity[f"{kind}_id"] == subject.id
    assert all(activity[f"{other}_id"] is None for other in SUBJECT_KINDS if other != kind)
    assert activity["author_id"] == member.user.id and activity["version"] == 1
    assert before <= datetime.fromisoformat(activity["occurred_at"]) <= utcnow()
    assert (activity["due_on"], activity["assignee_id"], activity["done_at"],
            activity["done_by_id"]) == (None, None, None, None)
    assert member.get(response.headers["Location"]).json == activity
    [entry] = audit_entries("activity.create")
    assert entry.actor_id == member.user.id and entry.record_id == activity["id"]


def test_an_activity_on_several_records_with_every_field(app, spec, member):
    contact = make_contact(last_name="Kim")
    lead = make_lead(actor=member.user, title="Sensorwerk")
    event = make_event(name="Business Breakfast Seoul", starts_on="2025-05-20")
    organisation = make_organisation(name="Samsung Electronics")
    colleague = make_user(name="Andreas Krey")
    body = {"kind": "meeting", "body": "Beim Frühstück getroffen.\n<b>Broschüre</b> schicken.",
            "occurred_at": "2025-05-20T09:30:00+09:00", "organisation_id": organisation.id,
            "contact_id": contact.id, "event_id": event.id, "lead_id": lead.id,
            "due_on": "2025-05-27", "assignee_id": colleague.id}
    response = member.post("/api/v1/activities", body)
    assert response.status_code == 201, response.json
    activity = response.json
    assert activity["body"] == body["body"]  # stored as written
    assert activity["occurred_at"] == "2025-05-20T00:30:00+00:00"
    assert (activity["contact_id"], activity["lead_id"], activity["event_id"],
            activity["organisation_id"]) == (contact.id, lead.id, event.id, organisation.id)
    assert activity["due_on"] == "2025-05-27" and activity["assignee_id"] == colleague.id
    # Another member reads it, and finds it under each record.
    reader = make_api(app, spec)
    for kind, record in (("contact", contact), ("lead", lead), ("event", event),
                         ("organisation", organisation)):
        listed = reader.get(f"/api/v1/activities?{kind}={record.id}").json["items"]
        assert listed == [activity]


@pytest.mark.parametrize(("sent", "stored"), [
    ("2025-05-20T09:30", "2025-05-20T07:30:00+00:00"),  # Europe/Berlin in summer: UTC+2
    ("2025-01-20T09:30:00", "2025-01-20T08:30:00+00:00"),  # and in winter: UTC+1
    ("2025-05-20T09:30:00Z", "2025-05-20T09:30:00+00:00"),
    ("2025-05-20T09:30:15.250+09:00", "2025-05-20T00:30:15.250000+00:00"),
    ("2025-05-20", "2025-05-19T22:00:00+00:00"),  # a day alone: its start, local time
    ("20.05.2025 09:30", "2025-05-20T07:30:00+00:00"),  # as a German user types it
])
def test_occurred_at_without_an_offset_is_local_time(member, sent, stored):
    contact = make_contact()
    response = member.post("/api/v1/activities", {"body": "X", "contact_id": contact.id,
                                                   "occurred_at": sent})
    assert response.status_code == 201, response.json
    assert response.json["occurred_at"] == stored


# Follow-ups.


def test_a_follow_up_is_assigned_to_its_author_unless_said_otherwise(member):
    contact = make_contact()
    colleague = make_user()
    mine = member.post("/api/v1/activities", {"body": "Anrufen", "contact_id": contact.id,
                                               "due_on": "2026-03-10"}).json
    assert mine["assignee_id"] == member.user.id and mine["due_on"] == "2026-03-10"
    theirs = member.post("/api/v1/activities", {"body": "Mail", "contact_id": contact.id,
                                                 "due_on": "2026-03-10",
                                                 "assignee_id": colleague.id}).json
    assert theirs["assignee_id"] == colleague.id
    # A note becomes a follow-up later: again for its author by default.
    plain = member.post("/api/v1/activities", {"body": "Notiz", "contact_id": contact.id}).json
    assert plain["assignee_id"] is None
    changed = member.patch(f"/api/v1/activities/{plain['id']}",
                           {"version": plain["version"], "due_on": "2026-04-01"})
    assert changed.status_code == 200, changed.json
    assert changed.json["due_on"] == "2026-04-01"
    assert changed.json["assignee_id"] == member.user.id


def test_done_and_open_again_by_patch_record_who_and_when(app, spec, member):
    """Anyone who sees a follow-up may tick it off; the rest of it only its author changes."""
    colleague = make_api(app, spec, name="Andreas Krey")
    follow_up = note(member.user, body="Broschüre schicken", due_on=date(2026, 3, 10),
                     assignee=colleague.user)
    url = f"/api/v1/activities/{follow_up.id}"
    before = utcnow()
    done = colleague.patch(url, {"version": 1, "done": True})
    assert done.status_code == 200, done.json
    assert done.json["done_by_id"] == colleague.user.id
    assert before <= datetime.fromisoformat(done.json["done_at"]) <= utcnow()
    assert done.json["version"] == 2 and done.json["body"] == "Broschüre schicken"
    [entry] = audit_entries("activity.done")
    assert entry.actor_id == colleague.user.id and entry.record_id == follow_up.id
    # Ticking it off again changes nothing.
    again = colleague.patch(url, {"version": 2, "done": True})
    assert again.json["done_at"] == done.json["done_at"] and again.json["version"] == 2
    # The colleague may not change its text...
    refused = colleague.patch(url, {"version": 2, "body": "Erledigt, siehe Mail", "done": False})
    assert refused.status_code == 403 and refused.json["error"]["code"] == "forbidden"
    assert fresh(follow_up).done_at is not None and fresh(follow_up).body == "Broschüre schicken"
    # ... but may open it again.
    reopened = colleague.patch(url, {"version": 2, "done": False})
    assert reopened.status_code == 200
    assert reopened.json["done_at"] is None and reopened.json["done_by_id"] is None
    assert [e.actor_id for e in audit_entries("activity.reopen")] == [colleague.user.id]
    assert colleague.patch(url, {"version": 2, "done": True}).status_code == 409


def test_a_due_date_and_done_in_one_patch(member):
    plain = note(member.user, body="Notiz")
    url = f"/api/v1/activities/{plain.id}"
    refused = member.patch(url, {"version": 1, "done": True})
    assert refused.status_code == 422 and error_fields(refused) == {"done"}
    response = member.patch(url, {"version": 1, "due_on": "2026-03-10", "done": True})
    assert response.status_code == 200, response.json
    assert response.json["done_by_id"] == member.user.id
    assert response.json["assignee_id"] == member.user.id
    # Taking the due date away while keeping it done is refused as a whole: nothing saved.
    version = response.json["version"]
    refused = member.patch(url, {"version": version, "due_on": None, "done": True,
                                 "body": "Neu"})
    assert refused.status_code == 422 and error_fields(refused) == {"done"}
    activity = fresh(plain)
    assert (activity.body, activity.due_on, activity.version) == (
        "Notiz", date(2026, 3, 10), version)


@pytest.mark.parametrize("value", [None, "vielleicht", 2, [True]])
def test_done_is_true_or_false(member, value):
    follow_up = note(member.user, due_on=date(2026, 3, 10))
    response = member.patch(f"/api/v1/activities/{follow_up.id}", {"version": 1, "done": value})
    assert response.status_code == 422 and error_fields(response) == {"done"}
    assert fresh(follow_up).done_at is None


# Changing and deleting.


def test_an_activity_is_changed_with_the_version_last_seen(member):
    colleague = make_user()
    activity = note(member.user, body="Erstkontakt", kind="note")
    url = f"/api/v1/activities/{activity.id}"
    response = member.patch(url, {"version": 1, "kind": "call", "body": "Telefoniert",
                                  "occurred_at": "2025-05-21T10:00:00+02:00",
                                  "due_on": "2026-01-15", "assignee_id": colleague.id})
    assert response.status_code == 200, response.json
    changed = response.json
    assert (changed["kind"], changed["body"], changed["occurred_at"], changed["due_on"],
            changed["assignee_id"], changed["version"]) == (
        "call", "Telefoniert", "2025-05-21T08:00:00+00:00", "2026-01-15", colleague.id, 2)
    assert changed["contact_id"] == activity.contact_id  # fields not sent keep their values
    [entry] = audit_entries("activity.update")
    assert entry.actor_id == member.user.id and entry.changes["body"] == [
        "Erstkontakt", "Telefoniert"]

    stale = member.patch(url, {"version": 1, "body": "Alt"})
    assert stale.status_code == 409 and stale.json["error"]["code"] == "conflict"
    missing = member.patch(url, {"body": "Ohne Version"})
    assert missing.status_code == 422 and error_fields(missing) == {"version"}
    assert member.get(url).json == changed


@pytest.mark.parametrize(("body", "fields"), [
    ({"contact_id": 1}, {"contact_id"}),
    ({"lead_id": None}, {"lead_id"}),
    ({"author_id": 1}, {"author_id"}),
    ({"done_at": "2026-01-01T00:00:00+00:00"}, {"done_at"}),
    ({"done_by_id": 1}, {"done_by_id"}),
    ({"colour": "blue"}, {"colour"}),
    ({"body": ""}, {"body"}),
    ({"body": ["Text"]}, {"body"}),
    ({"kind": "fax"}, {"kind"}),
    ({"due_on": "morgen"}, {"due_on"}),
    ({"occurred_at": "2099-01-01T00:00:00Z"}, {"occurred_at"}),
], ids=lambda v: repr(v)[:40] if isinstance(v, dict) else None)
def test_a_bad_change_is_a_422_naming_the_fields_and_changes_nothing(member, body, fields):
    activity = note(member.user, body="Unverändert")
    response = member.patch(f"/api/v1/activities/{activity.id}", {"version": 1, **body})
    assert response.status_code == 422, response.json
    assert error_fields(response) == fields
    assert fresh(activity).version == 1 and fresh(activity).body == "Unverändert"
    assert audit_entries("activity.update") == []


def test_only_the_author_managers_and_admins_change_or_delete(app, spec, member, manager):
    other = make_api(app, spec)
    activity = note(member.user, body="Meine Notiz")
    url = f"/api/v1/activities/{activity.id}"
    assert other.get(url).status_code == 200
    for response in (other.patch(url, {"version": 1, "body": "Fremd"}), other.delete(url)):
        assert response.status_code == 403 and response.json["error"]["code"] == "forbidden"
    assert fresh(activity).body == "Meine Notiz" and fresh(activity).deleted_at is None
    changed = manager.patch(url, {"version": 1, "body": "Vom Manager ergänzt"})
    assert changed.status_code == 200 and changed.json["author_id"] == member.user.id
    admin = make_api(app, spec, role="admin")
    assert admin.delete(url).status_code == 204
    [entry] = audit_entries("activity.delete")
    assert entry.actor_id == admin.user.id
    for api in (member, other, manager):
        assert api.get(url).status_code == 404
        assert api.get("/api/v1/activities").json["items"] == []
    # An admin still reads it; nobody changes it but by restoring it.
    seen = admin.get(url)
    assert seen.status_code == 200 and seen.json["deleted_at"] is not None
    assert admin.patch(url, {"version": seen.json["version"], "done": True}).status_code == 404
    assert admin.delete(url).status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/activities/999", "/api/v1/activities/0",
                                  "/api/v1/activities/abc", "/api/v1/activities/2147483648"])
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_an_unknown_activity_is_a_404(member, path, method):
    note(member.user)
    body = {"version": 1, "done": True} if method == "PATCH" else None
    response = member.open(method, path, body)
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b'"Notiz"', b"null"])
@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_a_body_that_is_not_a_json_object_is_a_400(member, raw, method):
    activity = note(member.user)
    url = "/api/v1/activities" if method == "POST" else f"/api/v1/activities/{activity.id}"
    response = member.open(method, url, raw=raw)
    assert response.status_code == 400 and response.json["error"]["code"] == "bad_request"


# The list: filters and paging.


def test_activities_are_listed_and_filtered(app, spec, member):
    colleague = make_user(name="Andreas Krey")
    samsung = make_organisation(name="Samsung Electronics")
    kim = make_contact(last_name="Kim", organisation=samsung)
    lead = make_lead(actor=member.user, organisation=samsung, title="Sensorwerk")
    breakfast = make_event(name="Business Breakfast Seoul", starts_on="2025-05-20")
    note(member.user, body="Firmenprofil gelesen", organisation=samsung)
    note(member.user, body="Beim Frühstück getroffen", kind="meeting", contact=kim,
         event=breakfast)
    note(member.user, body="Angebot besprechen", kind="call", lead=lead,
         due_on=date(2026, 3, 2))
    note(member.user, body="Standortbroschüre schicken", kind="email", contact=kim,
         due_on=date(2026, 3, 9), assignee=colleague)
    done = note(member.user, body="Dank für das Treffen", kind="email", contact=kim,
                due_on=date(2026, 2, 20))
    activity_services.mark_done(done, actor=colleague)
    gone = note(member.user, body="Gelöschte Notiz", contact=kim)
    activity_services.delete_activity(gone, actor=None)
    db.session.commit()

    def listed(query):
        return bodies(member.get(f"/api/v1/activities?{query}"))

    everything = ["Angebot besprechen", "Beim Frühstück getroffen", "Dank für das Treffen",
                  "Firmenprofil gelesen", "Standortbroschüre schicken"]
    assert listed("") == everything
    assert listed(f"organisation={samsung.id}") == ["Firmenprofil gelesen"]
    assert listed(f"contact={kim.id}") == ["Beim Frühstück getroffen", "Dank für das Treffen",
                                           "Standortbroschüre schicken"]
    assert listed(f"event={breakfast.id}") == ["Beim Frühstück getroffen"]
    assert listed(f"lead={lead.id}") == ["Angebot besprechen"]
    assert listed("kind=email") == ["Dank für das Treffen", "Standortbroschüre schicken"]
    assert listed(f"assignee={colleague.id}") == ["Standortbroschüre schicken"]
    assert listed(f"assignee={member.user.id}") == ["Angebot besprechen", "Dank für das Treffen"]
    assert listed("follow_ups=true") == ["Angebot besprechen", "Dank für das Treffen",
                                         "Standortbroschüre schicken"]
    assert listed("follow_ups=false") == everything
    assert listed("done=false") == ["Angebot besprechen", "Standortbroschüre schicken"]
    assert listed("done=true") == ["Dank für das Treffen"]
    assert listed("due_from=2026-03-01") == ["Angebot besprechen", "Standortbroschüre schicken"]
    assert listed("due_to=2026-03-02") == ["Angebot besprechen", "Dank für das Treffen"]
    assert listed("due_from=2026-03-02&due_to=2026-03-08") == ["Angebot besprechen"]
    assert listed(f"done=false&assignee={colleague.id}&due_to=2026-03-31") == [
        "Standortbroschüre schicken"]
    assert listed("q=broschüre") == listed("q=BROSCHÜRE schicken") == [
        "Standortbroschüre schicken"]
    assert listed("q=treffen&kind=email") == ["Dank für das Treffen"]
    assert listed("q=50%25") == listed("q=_") == []  # LIKE's wildcards are plain characters
    assert listed("lead=999") == []


def test_activities_are_paged_by_id_with_a_cursor(member):
    # Recorded newest first: the pages follow the ids, not the moments.
    made = [note(member.user, body=f"Notiz {n}", occurred_at=datetime(2025, 5, 20 - n, 9, 0)).id
            for n in range(7)]
    items, pages = member.all_pages("/api/v1/activities", limit=3)
    assert [item["id"] for item in items] == sorted(made) and pages == 3
    # A filter stays with the cursor; a record deleted meanwhile does not shift the pages.
    for n in range(4):
        note(member.user, body=f"Aufgabe {n}", due_on=date(2026, 3, 1 + n))
    first = member.get("/api/v1/activities?follow_ups=true&limit=2").json
    assert [i["body"] for i in first["items"]] == ["Aufgabe 0", "Aufgabe 1"]
    activity_services.delete_activity(db.session.get(Activity, first["items"][0]["id"]),
                                      actor=None)
    db.session.commit()
    rest = member.get(f"/api/v1/activities?follow_ups=true&limit=2&cursor="
                      f"{first['next_cursor']}").json
    assert [i["body"] for i in rest["items"]] == ["Aufgabe 2", "Aufgabe 3"]
    assert rest["next_cursor"] is None


@pytest.mark.parametrize(("query", "field"), [
    ("due_from=morgen", "due_from"), ("due_to=2026-02-30", "due_to"), ("done=perhaps", "done"),
    ("follow_ups=x", "follow_ups"), ("kind=fax", "kind"), ("assignee=0", "assignee"),
    ("lead=abc", "lead"), ("organisation=-1", "organisation"), ("contact=1.5", "contact"),
    ("event=x", "event"), ("limit=0", "limit"), ("cursor=abc", "cursor"),
    ("q=" + "x" * 201, "q"), ("page=2", "page"), ("done=true&done=false", "done"),
])
def test_a_bad_list_argument_is_a_400_naming_it(member, query, field):
    response = member.get(f"/api/v1/activities?{query}")
    assert response.status_code == 400 and error_fields(response) == {field}


# Who sees what.


def test_a_member_cannot_see_activities_on_someone_elses_confidential_lead(app, spec, member,
                                                                           manager):
    owner = make_api(app, spec)
    on_team = make_user()
    kim = make_contact(last_name="Kim")
    secret = make_lead(actor=owner.user, title="Geheimprojekt Halbleiter", is_confidential=True,
                       team_member_ids=[on_team.id], contact_ids=[kim.id])
    hidden = note(owner.user, body="Geheimes Gespräch über Halbleiter", lead=secret,
                  contact=kim, due_on=date(2026, 3, 10))
    note(owner.user, body="Offene Notiz", contact=kim)
    url = f"/api/v1/activities/{hidden.id}"
    answers = [member.get(url), member.patch(url, {"version": 1, "done": True}),
               member.patch(url, {"version": 1, "body": "Entdeckt"}), member.delete(url),
               member.post("/api/v1/activities", {"body": "Ich auch", "lead_id": secret.id}),
               member.post("/api/v1/activities", {"body": "Ich auch", "contact_id": kim.id,
                                                  "lead_id": secret.id})]
    for response in answers:
        assert response.status_code == 404, response.json
        assert response.json["error"]["code"] == "not_found"
        assert "Geheim" not in response.get_data(as_text=True)
    assert error_fields(answers[-1]) == {"lead_id"}
    # Its "not found" reads like that of a lead that does not exist.
    unknown = member.post("/api/v1/activities", {"body": "X", "lead_id": 999})
    assert unknown.json["error"] == answers[-1].json["error"]
    for query in ("", f"lead={secret.id}", f"contact={kim.id}", "q=halbleiter",
                  "follow_ups=true", f"assignee={owner.user.id}", "done=false"):
        listed = member.get(f"/api/v1/activities?{query}")
        assert "Geheim" not in listed.get_data(as_text=True), query
    assert bodies(member.get("/api/v1/activities")) == ["Offene Notiz"]
    activity = fresh(hidden)
    assert (activity.body, activity.done_at, activity.version, activity.deleted_at) == (
        "Geheimes Gespräch über Halbleiter", None, 1, None)
    assert [a.body for a in stored_activities()] == [
        "Geheimes Gespräch über Halbleiter", "Offene Notiz"]
    # Its owner, its team, managers and admins see it, and may record more on the lead.
    team_api = make_api(app, spec)
    lead_services.update_lead(db.session.get(type(secret), secret.id),
                              {"team_member_ids": [on_team.id, team_api.user.id]}, actor=None)
    db.session.commit()
    for api in (owner, team_api, manager, make_api(app, spec, role="admin")):
        assert api.get(url).status_code == 200
        assert bodies(api.get(f"/api/v1/activities?lead={secret.id}")) == [
            "Geheimes Gespräch über Halbleiter"]
    created = team_api.post("/api/v1/activities", {"body": "Mit im Team", "lead_id": secret.id})
    assert created.status_code == 201
    assert team_api.patch(url, {"version": 1, "done": True}).status_code == 200


def test_activities_on_deleted_people_and_leads_are_gone(app, spec, member):
    kim, lee = make_contact(last_name="Kim"), make_contact(last_name="Lee")
    lead = make_lead(actor=member.user, title="Abgesagt")
    on_kim = note(member.user, body="Über Kim", contact=kim)
    on_lead = note(member.user, body="Über das Projekt", lead=lead)
    note(member.user, body="Über Lee", contact=lee)
    contact_services.delete_contact(kim, actor=None)
    lead_services.delete_lead(lead, actor=None)
    db.session.commit()
    admin = make_api(app, spec, role="admin")
    for api in (member, admin):
        assert bodies(api.get("/api/v1/activities")) == ["Über Lee"]
        for activity in (on_kim, on_lead):
            assert api.get(f"/api/v1/activities/{activity.id}").status_code == 404
            assert api.patch(f"/api/v1/activities/{activity.id}",
                             {"version": 1, "body": "X"}).status_code == 404


@pytest.mark.parametrize("kind", SUBJECT_KINDS)
@pytest.mark.parametrize("state", ["unknown", "deleted"])
def test_an_activity_on_a_record_that_does_not_exist_is_a_404(member, kind, state):
    subject = make_subject(kind, actor=member.user)
    record_id = 999
    if state == "deleted":
        deleted = {"organisation": organisation_services.delete_organisation,
                   "contact": contact_services.delete_contact,
                   "event": event_services.delete_event,
                   "lead": lead_services.delete_lead}[kind]
        deleted(subject, actor=None)
        db.session.commit()
        record_id = subject.id
    other = make_contact(last_name="Vorhanden")
    response = member.post("/api/v1/activities", {"body": "Notiz", f"{kind}_id": record_id,
                                                   **({"contact_id": other.id}
                                                      if kind != "contact" else {})})
    assert response.status_code == 404, response.json
    assert response.json["error"]["code"] == "not_found"
    assert error_fields(response) == {f"{kind}_id"}
    assert stored_activities() == [] and audit_entries("activity.create") == []


# Bad input.


DEACTIVATED, UNKNOWN = "deactivated", "unknown"


@pytest.mark.parametrize(("body", "fields"), [
    ({"due_on": "morgen"}, {"due_on"}),
    ({"due_on": "2026-02-30"}, {"due_on"}),
    ({"due_on": 20260310}, {"due_on"}),
    ({"due_on": "2026-03-10", "assignee_id": DEACTIVATED}, {"assignee_id"}),
    ({"due_on": "2026-03-10", "assignee_id": UNKNOWN}, {"assignee_id"}),
    ({"due_on": "2026-03-10", "assignee_id": "Lea"}, {"assignee_id"}),
    ({"body": ""}, {"body"}),
    ({"body": "   \n "}, {"body"}),
    ({"body": None}, {"body"}),
    ({"body": 42}, {"body"}),
    ({"body": "x" * 1_000_000}, {"body"}),
    ({"body": "Notiz\x00"}, {"body"}),
    ({"occurred_at": "2099-01-01T10:00:00+01:00"}, {"occurred_at"}),
    ({"occurred_at": "gestern"}, {"occurred_at"}),
    ({"occurred_at": "2025-05-20T25:00"}, {"occurred_at"}),
    ({"occurred_at": "1970-01-01T00:00:00Z"}, {"occurred_at"}),
    ({"occurred_at": 1747729800}, {"occurred_at"}),
    ({"kind": "fax"}, {"kind"}),
    ({"kind": ""}, {"kind"}),
    ({"colour": "blue", "Body": "Y"}, {"colour", "Body"}),
    ({"done": True}, {"done"}),
    ({"author_id": 1, "done_at": "2026-01-01T00:00:00Z", "id": 5},
     {"author_id", "done_at", "id"}),
    ({"contact_id": "abc"}, {"contact_id"}),
    ({"contact_id": [1]}, {"contact_id"}),
    ({"contact_id": None}, {"organisation_id", "contact_id", "event_id", "lead_id"}),
], ids=lambda v: repr(v)[:40] if isinstance(v, dict) else None)
def test_bad_activity_data_is_a_422_naming_the_fields(member, body, fields):
    make_user(role="admin")  # so that a member may be deactivated
    contact = make_contact(last_name="Kim")
    if body.get("assignee_id") == DEACTIVATED:
        gone = make_user()
        auth_services.deactivate_user(gone, actor=None)
        db.session.commit()
        body = {**body, "assignee_id": gone.id}
    elif body.get("assignee_id") == UNKNOWN:
        body = {**body, "assignee_id": 999}
    response = member.post("/api/v1/activities", {"body": "Notiz", "contact_id": contact.id,
                                                   **body})
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "invalid" and error_fields(response) == fields
    assert stored_activities() == [] and audit_entries("activity.create") == []


def test_an_activity_may_have_happened_today_in_another_time_zone(member):
    """Up to a day ahead is accepted: late evening in Seoul is still today in Berlin."""
    contact = make_contact()
    soon = (utcnow() + timedelta(hours=12)).isoformat()
    assert member.post("/api/v1/activities", {"body": "X", "contact_id": contact.id,
                                              "occurred_at": soon}).status_code == 201


# Access, and the number of queries.


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/v1/activities"), ("POST", "/api/v1/activities"),
    ("GET", "/api/v1/activities/{id}"), ("PATCH", "/api/v1/activities/{id}"),
    ("DELETE", "/api/v1/activities/{id}"),
])
def test_without_a_token_no_activity_is_read_or_written(app, spec, method, path):
    activity = note(make_user(), body="Geheim", due_on=date(2026, 3, 10))
    url = path.format(id=activity.id)
    response = app.test_client().open(url, method=method, json={
        "body": "X", "contact_id": activity.contact_id, "version": 1, "done": True})
    assert response.status_code == 401
    spec.check_response(method, url, response)
    assert "Geheim" not in response.get_data(as_text=True)
    assert fresh(activity).done_at is None and len(stored_activities()) == 1


def test_the_list_runs_the_same_queries_for_10_and_60_activities(app, spec, count_queries):
    api = make_api(app, spec)
    api.get("/api/v1/me")  # the token's first use is recorded once; not part of the count
    users = [api.user, make_user(), make_user()]
    contacts = [make_contact(last_name=f"Gast {n}") for n in range(3)]
    organisation = make_organisation()
    event = make_event()
    leads = [make_lead(actor=users[n], is_confidential=n == 1) for n in range(3)]
    counts = []
    for total in (10, 60):
        for n in range(total - len(api.get("/api/v1/activities?limit=200").json["items"])):
            note(users[n % 3], commit=False, body=f"Notiz {n}", contact=contacts[n % 3],
                 organisation=organisation, event=event if n % 2 else None,
                 lead=leads[n % 3] if n % 3 != 1 else None,
                 due_on=date(2026, 3, 1 + n % 28) if n % 2 else None, assignee=users[n % 3])
        db.session.commit()
        with count_queries() as statements:
            body = api.get("/api/v1/activities?limit=200").json
        assert len(body["items"]) == total
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 3
