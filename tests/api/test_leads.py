"""Investor leads through the JSON API: the resource, stage and status moves, the pipeline
report and who sees what, every answer checked against the OpenAPI document."""

import pytest
import sqlalchemy as sa

from crm.audit.models import AuditEntry
from crm.extensions import db
from crm.leads import services as lead_services
from crm.leads.models import Lead, StageChange
from crm.leads.rules import LIKELIHOOD_WEIGHTS
from tests.api.conftest import Api, make_api
from tests.factories import (
    DECISION_FIELDS,
    PROSPECT_FIELDS,
    make_contact,
    make_event,
    make_lead,
    make_organisation,
    make_token,
    make_user,
)

# What entering `prospect` needs (tests.factories.PROSPECT_FIELDS has values for them).
NEEDED_FOR_PROSPECT = {"sector", "investment_type", "capex_eur", "new_jobs"}


def fresh(lead):
    db.session.expire_all()
    return db.session.get(Lead, lead.id)


def history(lead_id):
    """The stage history of a lead, oldest first."""
    db.session.expire_all()
    return db.session.scalars(sa.select(StageChange).where(StageChange.lead_id == lead_id)
                              .order_by(StageChange.id)).all()


def audit_entries(action):
    db.session.expire_all()
    return db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)).all()


def error_fields(response):
    return set(response.json["error"]["fields"])


def titles(body):
    return sorted(item["title"] for item in body["items"])


@pytest.fixture
def member(app, spec):
    return make_api(app, spec, name="Lea Schäfer")


@pytest.fixture
def manager(app, spec):
    return make_api(app, spec, role="manager", name="Holger Heyer")


# The resource.


def test_a_lead_is_created_with_the_contracts_defaults(member):
    organisation = make_organisation(name="Hanwha Sensors")
    response = member.post("/api/v1/leads", {"title": "Sensorwerk Thüringen",
                                             "organisation_id": organisation.id})
    assert response.status_code == 201
    lead = response.json
    assert response.headers["Location"] == f"/api/v1/leads/{lead['id']}"
    assert lead["stage"] == "lead" and lead["status"] == "ongoing"
    assert lead["owner_id"] == member.user.id and lead["version"] == 1
    assert lead["contact_ids"] == [] and lead["is_confidential"] is False
    assert lead["capex_eur"] is None and lead["won_confirmed_by_id"] is None
    assert member.get(response.headers["Location"]).json == lead
    [entry] = audit_entries("lead.create")
    assert entry.actor_id == member.user.id and entry.record_id == lead["id"]
    [row] = history(lead["id"])
    assert (row.from_stage, row.to_stage, row.changed_by_id) == (None, "lead", member.user.id)


def test_a_lead_with_every_field(app, spec, member):
    organisation = make_organisation(name="Samsung Electronics", country="KR")
    partner = make_organisation(name="Germany Trade & Invest", kind="public_body")
    contact = make_contact(last_name="Kim")
    trip = make_event(name="Delegationsreise Seoul", kind="trip", starts_on="2025-05-18",
                      ends_on="2025-05-24")
    colleague = make_user(name="Andreas Krey")
    body = {
        "title": "Batteriezellen Erfurt", "organisation_id": organisation.id,
        "contact_ids": [contact.id], "owner_id": member.user.id,
        "team_member_ids": [colleague.id], "sector": "emobility_batteries", "country": "KR",
        "investment_type": "expansion", "business_activity": "manufacturing",
        "is_new_investor": False, "description": "Vom Business Breakfast Seoul.",
        "capex_eur": "12,5 Mio.", "capex_is_estimate": True, "capex_unknown": False,
        "new_jobs": "1.200", "new_jobs_is_estimate": True, "safeguarded_jobs": 0,
        "safeguarded_jobs_unknown": False, "realised_capex_eur": None,
        "likelihood": "medium", "expected_decision_on": "2026-06-30",
        "candidate_sites": "Erfurter Kreuz\nJena-Süd", "competing_locations": "Polen",
        "chosen_site": None, "decided_on": None, "source": "trip", "source_event_id": trip.id,
        "referral_partner_id": partner.id, "is_confidential": True,
    }
    response = member.post("/api/v1/leads", body)
    assert response.status_code == 201, response.json
    lead = response.json
    assert lead["capex_eur"] == 12_500_000 and lead["new_jobs"] == 1200
    assert lead["safeguarded_jobs"] == 0 and lead["expected_decision_on"] == "2026-06-30"
    assert lead["contact_ids"] == [contact.id] and lead["team_member_ids"] == [colleague.id]
    assert lead["source_event_id"] == trip.id and lead["referral_partner_id"] == partner.id
    assert lead["is_confidential"] is True and lead["is_new_investor"] is False
    # The colleague on the team sees the confidential lead; another member does not.
    colleague_api = Api(app.test_client(), make_token(colleague)[1], spec, colleague)
    assert colleague_api.get(f"/api/v1/leads/{lead['id']}").json == lead
    assert make_api(app, spec).get(f"/api/v1/leads/{lead['id']}").status_code == 404


def test_a_lead_is_changed_with_the_version_last_seen(member):
    lead = make_lead(actor=member.user, title="Sensorwerk")
    url = f"/api/v1/leads/{lead.id}"
    response = member.patch(url, {"version": 1, "likelihood": "high", "capex_eur": 5_000_000})
    assert response.status_code == 200
    assert response.json["likelihood"] == "high" and response.json["version"] == 2
    assert response.json["title"] == "Sensorwerk"  # fields not sent keep their values
    [entry] = audit_entries("lead.update")
    assert entry.actor_id == member.user.id and entry.changes["likelihood"] == [None, "high"]

    stale = member.patch(url, {"version": 1, "likelihood": "low"})
    assert stale.status_code == 409 and stale.json["error"]["code"] == "conflict"
    missing = member.patch(url, {"likelihood": "low"})
    assert missing.status_code == 422 and error_fields(missing) == {"version"}
    assert member.get(url).json["likelihood"] == "high"


def test_fields_only_the_moves_set_are_read_only(member):
    lead = make_lead(actor=member.user)
    for field, value in (("stage_entered_at", "2026-01-01T00:00:00+00:00"),
                         ("won_confirmed_by_id", member.user.id),
                         ("won_confirmed_at", "2026-01-01T00:00:00+00:00"), ("id", 5)):
        response = member.patch(f"/api/v1/leads/{lead.id}", {"version": 1, field: value})
        assert response.status_code == 422 and error_fields(response) == {field}
    assert fresh(lead).version == 1


def test_a_deleted_lead_is_gone_and_stays_unchanged_even_for_admins(app, spec, member):
    lead = make_lead(actor=member.user, title="Weg")
    url = f"/api/v1/leads/{lead.id}"
    assert member.delete(url).status_code == 204
    assert member.get(url).status_code == 404
    assert member.patch(url, {"version": 2, "title": "Wieder da"}).status_code == 404
    assert member.post(f"{url}/stage", {"stage": "prospect"}).status_code == 404
    assert member.get("/api/v1/leads").json["items"] == []
    [entry] = audit_entries("lead.delete")
    assert entry.actor_id == member.user.id
    admin = make_api(app, spec, role="admin")
    seen = admin.get(url)
    assert seen.status_code == 200 and seen.json["deleted_at"] is not None
    # Nobody changes a deleted record but by restoring it: not even an admin.
    assert admin.patch(url, {"version": seen.json["version"], "title": "X"}).status_code == 404
    assert admin.post(f"{url}/stage", {"stage": "prospect"}).status_code == 404
    assert admin.delete(url).status_code == 404
    assert fresh(lead).title == "Weg" and len(history(lead.id)) == 1


def test_a_deleted_organisation_stays_unchanged_even_for_admins(app, spec):
    """The same for the other resources: an admin reads a deleted record, changes none."""
    from crm.organisations import services as organisation_services

    organisation = make_organisation(name="Weg GmbH")
    organisation_services.delete_organisation(organisation, actor=None)
    db.session.commit()
    admin = make_api(app, spec, role="admin")
    url = f"/api/v1/organisations/{organisation.id}"
    assert admin.get(url).status_code == 200
    assert admin.patch(url, {"version": 2, "city": "Jena"}).status_code == 404
    assert admin.delete(url).status_code == 404
    db.session.expire_all()
    assert organisation.city is None


# Lists, filters and paging.


def test_leads_are_listed_filtered_and_searched(app, spec, member):
    other = make_user(name="Andreas Krey")
    samsung = make_organisation(name="Samsung Electronics")
    partner = make_organisation(name="OptoNet e.V.", kind="partner")
    trip = make_event(name="Delegationsreise Seoul", kind="trip", starts_on="2025-05-18",
                      ends_on="2025-05-24")
    breakfast = make_event(name="Business Breakfast Seoul", starts_on="2025-05-20",
                           parent_id=trip.id)
    seminar = make_event(name="Investorenseminar Düsseldorf", starts_on="2025-03-05")
    make_lead(actor=member.user, title="Müller Optik Erweiterung", sector="optics_photonics",
              country="DE", investment_type="expansion", likelihood="high",
              expected_decision_on="2026-03-01", referral_partner_id=partner.id)
    make_lead(actor=other, title="Batteriewerk", organisation=samsung,
              sector="emobility_batteries", country="KR", investment_type="greenfield",
              capex_eur=50_000_000, new_jobs=300, source_event_id=breakfast.id,
              expected_decision_on="2026-09-30", stage="prospect")
    make_lead(actor=other, title="Sensorlabor", team_member_ids=[member.user.id], country="KR",
              source_event_id=trip.id, likelihood="low")
    make_lead(actor=other, title="Chemiepark", source_event_id=seminar.id,
              status="lost", lost_reason="Energiepreise", closed_on="2025-11-03",
              lost_to="Polen")
    make_lead(actor=other, title="Ruhend", status="dormant")

    def listed(query):
        response = member.get(f"/api/v1/leads?{query}")
        assert response.status_code == 200
        return titles(response.json)

    assert listed("") == ["Batteriewerk", "Müller Optik Erweiterung", "Sensorlabor"]
    assert listed("q=muller") == listed("q=MUELLER+optik") == ["Müller Optik Erweiterung"]
    assert listed("q=samsung") == ["Batteriewerk"]  # the organisation's name is searched too
    assert listed("mine=true") == ["Müller Optik Erweiterung", "Sensorlabor"]
    assert listed("mine=false") == listed("")
    assert listed(f"owner={other.id}") == ["Batteriewerk", "Sensorlabor"]
    assert listed("sector=optics_photonics") == ["Müller Optik Erweiterung"]
    assert listed("country=KR") == listed("country=kr") == ["Batteriewerk", "Sensorlabor"]
    assert listed("investment_type=greenfield") == ["Batteriewerk"]
    assert listed(f"source_event={trip.id}") == ["Batteriewerk", "Sensorlabor"]
    assert listed(f"source_event={breakfast.id}") == ["Batteriewerk"]
    assert listed(f"referral_partner={partner.id}") == ["Müller Optik Erweiterung"]
    assert listed("likelihood=low") == ["Sensorlabor"]
    assert listed("stage=prospect") == ["Batteriewerk"]
    assert listed("decision_from=2026-06-01") == ["Batteriewerk"]
    assert listed("decision_to=2026-06-01") == ["Müller Optik Erweiterung"]
    assert listed("decision_from=2026-01-01&decision_to=2026-12-31") == [
        "Batteriewerk", "Müller Optik Erweiterung"]
    # Lost, abandoned and dormant leads only when asked for.
    assert listed("status=lost") == ["Chemiepark"]
    assert listed("status=dormant") == ["Ruhend"]
    assert listed("show_closed=true") == ["Batteriewerk", "Chemiepark", "Müller Optik Erweiterung",
                                          "Ruhend", "Sensorlabor"]
    assert listed(f"show_closed=true&source_event={seminar.id}") == ["Chemiepark"]
    assert listed("country=KR&likelihood=high") == []


def test_leads_are_paged_by_id_with_a_cursor_keeping_the_filters(member):
    created = [make_lead(actor=member.user, country="KR" if n % 2 else "US").id
               for n in range(7)]
    items, pages = member.all_pages("/api/v1/leads", limit=3)
    assert [item["id"] for item in items] == created and pages == 3
    items, pages = member.all_pages("/api/v1/leads?country=KR", limit=2)
    assert [item["id"] for item in items] == created[1::2] and pages == 2


@pytest.mark.parametrize(("query", "field"), [
    ("mine=perhaps", "mine"), ("show_closed=sometimes", "show_closed"), ("owner=0", "owner"),
    ("owner=abc", "owner"), ("sector=banking", "sector"), ("country=XX", "country"),
    ("investment_type=charity", "investment_type"), ("source_event=-1", "source_event"),
    ("referral_partner=x", "referral_partner"), ("likelihood=maybe", "likelihood"),
    ("stage=finished", "stage"), ("status=happy", "status"),
    ("decision_from=soon", "decision_from"), ("decision_to=2026-02-30", "decision_to"),
    ("limit=0", "limit"), ("cursor=abc", "cursor"),
    ("kind=investor", "kind"), ("stage=lead&stage=won", "stage"),
])
def test_a_bad_list_argument_is_a_400_naming_it(member, query, field):
    response = member.get(f"/api/v1/leads?{query}")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "bad_request" and error_fields(response) == {field}


# Stage and status moves.


def test_a_forward_move_is_refused_with_the_missing_fields_then_accepted(member):
    lead = make_lead(actor=member.user, title="Sensorwerk")
    url = f"/api/v1/leads/{lead.id}/stage"
    refused = member.post(url, {"stage": "prospect"})
    assert refused.status_code == 422
    error = refused.json["error"]
    assert error["code"] == "stage_refused" and set(error["fields"]) == NEEDED_FOR_PROSPECT
    assert {m["field"] for m in error["missing"]} == NEEDED_FOR_PROSPECT
    assert all(m["label"] for m in error["missing"])
    member.spec.validate({"$ref": "#/components/schemas/StageRefusedError"}, refused.json)
    lead = fresh(lead)
    assert (lead.stage, lead.version, len(history(lead.id))) == ("lead", 1, 1)

    # "Client cannot say" counts as given for the prospect stage.
    filled = member.patch(f"/api/v1/leads/{lead.id}", {
        "version": 1, "sector": "sensors", "investment_type": "greenfield",
        "capex_unknown": True, "new_jobs": 80})
    assert filled.status_code == 200
    moved = member.post(url, {"stage": "prospect"})
    assert moved.status_code == 200, moved.json
    assert moved.json["stage"] == "prospect" and moved.json["status"] == "ongoing"
    assert moved.json["version"] > filled.json["version"]
    assert moved.json["stage_entered_at"] >= filled.json["updated_at"]
    rows = history(lead.id)
    assert [(r.from_stage, r.to_stage, r.changed_by_id) for r in rows] == [
        (None, "lead", member.user.id), ("lead", "prospect", member.user.id)]
    [entry] = audit_entries("lead.stage")
    assert entry.changes["stage"] == ["lead", "prospect"]


def test_skipping_stages_needs_the_fields_of_every_stage_on_the_way(member):
    lead = make_lead(actor=member.user, sector="sensors")
    response = member.post(f"/api/v1/leads/{lead.id}/stage", {"stage": "active"})
    assert response.status_code == 422
    # The owner is set (the creator), the rest is missing.
    assert error_fields(response) == (NEEDED_FOR_PROSPECT - {"sector"}) | {"likelihood"}
    response = member.post(f"/api/v1/leads/{lead.id}/stage", {"stage": "decision"})
    assert error_fields(response) == (NEEDED_FOR_PROSPECT - {"sector"}) | {
        "likelihood", "chosen_site", "safeguarded_jobs", "decided_on"}


def test_moving_back_needs_nothing(member):
    lead = make_lead(actor=member.user, stage="decision", **DECISION_FIELDS)
    response = member.post(f"/api/v1/leads/{lead.id}/stage", {"stage": "lead"})
    assert response.status_code == 200 and response.json["stage"] == "lead"


def test_only_a_manager_who_is_not_the_project_manager_confirms_a_win(app, spec, member):
    lead = make_lead(actor=member.user, stage="decision", **DECISION_FIELDS)
    url = f"/api/v1/leads/{lead.id}/stage"
    refused = member.post(url, {"stage": "won"})
    assert refused.status_code == 422
    assert refused.json["error"]["code"] == "stage_refused"
    assert error_fields(refused) == {"stage"} and refused.json["error"]["missing"] == []
    owning_manager = make_api(app, spec, role="manager")
    owned = make_lead(actor=owning_manager.user, stage="decision", **DECISION_FIELDS)
    refused = owning_manager.post(f"/api/v1/leads/{owned.id}/stage", {"stage": "won"})
    assert refused.status_code == 422 and error_fields(refused) == {"stage"}
    assert fresh(lead).stage == fresh(owned).stage == "decision"

    confirming = make_api(app, spec, role="manager")
    won = confirming.post(url, {"stage": "won"})
    assert won.status_code == 200, won.json
    assert won.json["stage"] == "won" and won.json["status"] == "won"
    assert won.json["won_confirmed_by_id"] == confirming.user.id
    assert won.json["won_confirmed_at"] is not None
    assert history(lead.id)[-1].to_status == "won"


def test_a_manager_overrides_the_requirements_with_a_reason(app, spec, member, manager):
    lead = make_lead(actor=member.user, title="Sensorwerk")
    url = f"/api/v1/leads/{lead.id}/stage"
    reason = "Der Vorstand hat entschieden, das Projekt jetzt zu besetzen."
    # A member cannot override: the refusal names the reason field too.
    refused = member.post(url, {"stage": "active", "override_reason": reason})
    assert refused.status_code == 422
    assert "override_reason" in error_fields(refused) and "sector" in error_fields(refused)
    # A manager without a reason is refused like anyone.
    refused = manager.post(url, {"stage": "active"})
    assert refused.status_code == 422 and refused.json["error"]["code"] == "stage_refused"
    assert fresh(lead).stage == "lead"

    moved = manager.post(url, {"stage": "active", "override_reason": reason})
    assert moved.status_code == 200 and moved.json["stage"] == "active"
    last = history(lead.id)[-1]
    assert (last.from_stage, last.to_stage, last.override_reason) == ("lead", "active", reason)
    assert last.changed_by_id == manager.user.id
    [entry] = audit_entries("lead.stage_override")
    assert entry.actor_id == manager.user.id and entry.changes["override_reason"] == [None, reason]


def test_lost_needs_a_reason_a_date_and_where_it_went(member):
    lead = make_lead(actor=member.user, stage="prospect", **PROSPECT_FIELDS)
    url = f"/api/v1/leads/{lead.id}/stage"
    refused = member.post(url, {"status": "lost"})
    assert refused.status_code == 422
    assert error_fields(refused) == {"lost_reason", "closed_on", "lost_to"}
    refused = member.post(url, {"status": "abandoned", "lost_reason": "Kein Budget"})
    assert refused.status_code == 422 and error_fields(refused) == {"closed_on"}
    refused = member.post(url, {"status": "lost", "lost_reason": "Energiepreise",
                                "closed_on": "soon", "lost_to": "Polen"})
    assert refused.status_code == 422 and error_fields(refused) == {"closed_on"}
    assert fresh(lead).status == "ongoing" and len(history(lead.id)) == 2

    lost = member.post(url, {"status": "lost", "lost_reason": "Energiepreise",
                             "closed_on": "2025-11-03", "lost_to": "Polen"})
    assert lost.status_code == 200
    assert lost.json["status"] == "lost" and lost.json["stage"] == "prospect"  # stage kept
    assert (lost.json["lost_reason"], lost.json["closed_on"], lost.json["lost_to"]) == (
        "Energiepreise", "2025-11-03", "Polen")
    last = history(lead.id)[-1]
    assert (last.from_status, last.to_status, last.to_stage) == ("ongoing", "lost", "prospect")
    # A lost lead moves only after it is reopened; reopening clears the reason.
    refused = member.post(url, {"stage": "active"})
    assert refused.status_code == 422 and error_fields(refused) == {"stage"}
    reopened = member.post(url, {"status": "ongoing"})
    assert reopened.status_code == 200
    assert reopened.json["lost_reason"] is None and reopened.json["lost_to"] is None


def test_going_back_out_of_won_reopens_the_status(app, spec, member, manager):
    lead = make_lead(actor=member.user, stage="decision", **DECISION_FIELDS)
    assert manager.post(f"/api/v1/leads/{lead.id}/stage", {"stage": "won"}).status_code == 200
    # A won lead keeps its status until it leaves the stage.
    refused = manager.post(f"/api/v1/leads/{lead.id}/stage", {"status": "delayed"})
    assert refused.status_code == 422 and error_fields(refused) == {"status"}
    back = manager.post(f"/api/v1/leads/{lead.id}/stage", {"stage": "decision"})
    assert back.status_code == 200
    assert back.json["stage"] == "decision" and back.json["status"] == "ongoing"
    assert back.json["won_confirmed_by_id"] is None and back.json["won_confirmed_at"] is None
    last = history(lead.id)[-1]
    assert (last.from_stage, last.to_stage, last.from_status, last.to_status) == (
        "won", "decision", "won", "ongoing")


def test_a_stage_and_a_status_in_one_request_are_applied_in_that_order(member):
    lead = make_lead(actor=member.user, **PROSPECT_FIELDS)
    response = member.post(f"/api/v1/leads/{lead.id}/stage",
                           {"stage": "prospect", "status": "delayed", "version": 1})
    assert response.status_code == 200
    assert (response.json["stage"], response.json["status"]) == ("prospect", "delayed")
    assert [(r.to_stage, r.to_status) for r in history(lead.id)] == [
        ("lead", "ongoing"), ("prospect", "ongoing"), ("prospect", "delayed")]


def test_a_stage_in_a_patch_follows_the_same_rules(member):
    lead = make_lead(actor=member.user)
    url = f"/api/v1/leads/{lead.id}"
    refused = member.patch(url, {"version": 1, "stage": "prospect", "sector": "sensors"})
    assert refused.status_code == 422 and refused.json["error"]["code"] == "stage_refused"
    missing = {m["field"] for m in refused.json["error"]["missing"]}
    assert missing == NEEDED_FOR_PROSPECT - {"sector"}
    assert fresh(lead).sector is None  # nothing half-saved
    moved = member.patch(url, {"version": 1, "stage": "prospect", "sector": "sensors",
                               "investment_type": "retention", "capex_eur": "2 Mio.",
                               "new_jobs_unknown": True})
    assert moved.status_code == 200 and moved.json["stage"] == "prospect"
    assert moved.json["capex_eur"] == 2_000_000


@pytest.mark.parametrize(("body", "fields"), [
    ({}, {"stage", "status"}),
    ({"stage": "finished"}, {"stage"}),
    ({"stage": None}, {"stage"}),
    ({"stage": ["prospect"]}, {"stage"}),
    ({"status": "happy"}, {"status"}),
    ({"status": "won"}, {"status"}),
    ({"lost_reason": "Energiepreise"}, {"stage", "status"}),
    ({"status": "delayed", "override_reason": "Weil"}, {"override_reason"}),
    ({"stage": "prospect", "colour": "blue"}, {"colour"}),
    ({"stage": "lead", "version": "1"}, {"version"}),
    ({"stage": "prospect", "override_reason": "x" * 2001}, {"override_reason"}),
], ids=lambda v: repr(v)[:40] if isinstance(v, dict) else None)
def test_a_bad_move_is_a_422_naming_the_fields_and_changes_nothing(member, body, fields):
    lead = make_lead(actor=member.user)
    response = member.post(f"/api/v1/leads/{lead.id}/stage", body)
    assert response.status_code == 422, response.json
    assert error_fields(response) == fields
    assert fresh(lead).version == 1 and len(history(lead.id)) == 1


def test_a_move_on_an_outdated_version_is_a_409(member):
    lead = make_lead(actor=member.user)
    member.patch(f"/api/v1/leads/{lead.id}", {"version": 1, "title": "Neu"})
    response = member.post(f"/api/v1/leads/{lead.id}/stage", {"status": "delayed", "version": 1})
    assert response.status_code == 409 and response.json["error"]["code"] == "conflict"
    assert fresh(lead).status == "ongoing"


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b'"prospect"', b"null"])
def test_a_move_body_that_is_not_a_json_object_is_a_400(member, raw):
    lead = make_lead(actor=member.user)
    response = member.open("POST", f"/api/v1/leads/{lead.id}/stage", raw=raw)
    assert response.status_code == 400 and response.json["error"]["code"] == "bad_request"


@pytest.mark.parametrize("path", ["/api/v1/leads/999/stage", "/api/v1/leads/0/stage",
                                  "/api/v1/leads/abc/stage", "/api/v1/leads/2147483648/stage"])
def test_a_move_on_an_unknown_lead_is_a_404(member, path):
    make_lead(actor=member.user)
    response = member.post(path, {"stage": "prospect"})
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    assert audit_entries("lead.stage") == []


def test_a_move_on_a_deleted_lead_is_a_404_and_changes_nothing(member):
    lead = make_lead(actor=member.user, **PROSPECT_FIELDS)
    lead_services.delete_lead(lead, actor=None)
    db.session.commit()
    version = fresh(lead).version
    response = member.post(f"/api/v1/leads/{lead.id}/stage", {"stage": "prospect"})
    assert response.status_code == 404
    assert fresh(lead).stage == "lead" and fresh(lead).version == version
    assert len(history(lead.id)) == 1 and audit_entries("lead.stage") == []


# Bad input.


@pytest.mark.parametrize(("body", "fields"), [
    ({"organisation_id": 1}, {"title"}),
    ({"title": "X"}, {"organisation_id"}),
    ({"title": "X", "organisation_id": 999}, {"organisation_id"}),
    ({"title": "X", "organisation_id": 1, "capex_eur": -5}, {"capex_eur"}),
    ({"title": "X", "organisation_id": 1, "capex_eur": "-12.500.000"}, {"capex_eur"}),
    ({"title": "X", "organisation_id": 1, "capex_eur": "viel"}, {"capex_eur"}),
    ({"title": "X", "organisation_id": 1, "new_jobs": -1}, {"new_jobs"}),
    ({"title": "X", "organisation_id": 1, "new_jobs": "12,5"}, {"new_jobs"}),
    ({"title": "X", "organisation_id": 1, "safeguarded_jobs": "2 Mio."}, {"safeguarded_jobs"}),
    ({"title": "X", "organisation_id": 1, "likelihood": "maybe"}, {"likelihood"}),
    ({"title": "X", "organisation_id": 1, "stage": "finished"}, {"stage"}),
    ({"title": "X", "organisation_id": 1, "status": "happy"}, {"status"}),
    ({"title": "X", "organisation_id": 1, "expected_decision_on": "soon"},
     {"expected_decision_on"}),
    ({"title": "X", "organisation_id": 1, "expected_decision_on": "2026-02-30"},
     {"expected_decision_on"}),
    ({"title": "X", "organisation_id": 1, "sector": "banking"}, {"sector"}),
    ({"title": "X", "organisation_id": 1, "investment_type": ["greenfield"]},
     {"investment_type"}),
    ({"title": "X", "organisation_id": 1, "country": "EU"}, {"country"}),
    ({"title": "X", "organisation_id": 1, "owner_id": 999}, {"owner_id"}),
    ({"title": "X", "organisation_id": 1, "contact_ids": [999]}, {"contact_ids"}),
    ({"title": "X", "organisation_id": 1, "team_member_ids": "1"}, {"team_member_ids"}),
    ({"title": "X", "organisation_id": 1, "source_event_id": 999}, {"source_event_id"}),
    ({"title": "X", "organisation_id": 1, "is_confidential": "vielleicht"}, {"is_confidential"}),
    ({"title": "X", "organisation_id": 1, "stage": "prospect"}, NEEDED_FOR_PROSPECT),
    ({"title": "X", "organisation_id": 1, "status": "lost"}, {"lost_reason", "closed_on",
                                                              "lost_to"}),
    ({"title": "X", "organisation_id": 1, "won_confirmed_at": "2026-01-01"},
     {"won_confirmed_at"}),
    ({"title": "X", "organisation_id": 1, "capex": 5}, {"capex"}),
    ({"title": "x" * 301, "organisation_id": 1}, {"title"}),
], ids=lambda v: repr(v)[:50] if isinstance(v, dict) else None)
def test_bad_lead_data_is_a_422_naming_the_fields(member, body, fields):
    make_organisation()  # id 1
    response = member.post("/api/v1/leads", body)
    assert response.status_code == 422, response.json
    assert error_fields(response) == fields
    assert member.get("/api/v1/leads?show_closed=true").json["items"] == []
    assert audit_entries("lead.create") == []


@pytest.mark.parametrize(("value", "expected"), [
    ("12.500.000", 12_500_000), ("12,5 Mio.", 12_500_000), ("12,5 Mio. €", 12_500_000),
    ("12500000", 12_500_000), (12_500_000, 12_500_000), ("2 Mrd. EUR", 2_000_000_000),
])
def test_german_amounts_are_whole_euros(member, value, expected):
    organisation = make_organisation()
    response = member.post("/api/v1/leads", {"title": "X", "organisation_id": organisation.id,
                                             "capex_eur": value})
    assert response.status_code == 201 and response.json["capex_eur"] == expected
    changed = member.patch(response.headers["Location"], {"version": 1, "capex_eur": "1,2 Mio.",
                                                          "new_jobs": "1.200"})
    assert changed.json["capex_eur"] == 1_200_000 and changed.json["new_jobs"] == 1200


def test_a_german_date_is_accepted_too(member):
    organisation = make_organisation()
    response = member.post("/api/v1/leads", {"title": "X", "organisation_id": organisation.id,
                                             "expected_decision_on": "30.06.2026"},
                           canonical=False)
    assert response.status_code == 201 and response.json["expected_decision_on"] == "2026-06-30"


# Who sees what.


def test_a_member_cannot_see_or_change_someone_elses_confidential_lead(app, spec, member):
    owner = make_api(app, spec)
    colleague = make_user()
    secret = make_lead(actor=owner.user, title="Geheimprojekt Halbleiter", is_confidential=True,
                       team_member_ids=[colleague.id], capex_eur=80_000_000,
                       **{k: v for k, v in PROSPECT_FIELDS.items() if k != "capex_eur"})
    make_lead(actor=owner.user, title="Offenes Projekt")
    url = f"/api/v1/leads/{secret.id}"
    answers = [member.get(url), member.patch(url, {"version": 1, "title": "Entdeckt"}),
               member.delete(url), member.post(f"{url}/stage", {"stage": "prospect"}),
               member.post(f"{url}/stage", {"status": "lost"})]
    for response in answers:
        assert response.status_code == 404
        assert response.json["error"]["code"] == "not_found"
        assert "Geheim" not in response.get_data(as_text=True)
    assert titles(member.get("/api/v1/leads?show_closed=true").json) == ["Offenes Projekt"]
    assert member.get("/api/v1/leads?q=geheimprojekt").json["items"] == []
    assert titles(member.get(f"/api/v1/leads?owner={owner.user.id}").json) == [
        "Offenes Projekt"]
    report = member.get("/api/v1/reports/pipeline").json
    assert report["totals"]["count"] == 1 and report["totals"]["capex_eur"] == 0
    lead = fresh(secret)
    assert (lead.title, lead.stage, lead.version, lead.deleted_at) == (
        "Geheimprojekt Halbleiter", "lead", 1, None)
    # Its owner, its team, managers and admins see it.
    assert owner.get(url).status_code == 200
    for role in ("manager", "admin"):
        assert make_api(app, spec, role=role).get(url).status_code == 200
    on_team = make_api(app, spec)
    lead_services.update_lead(fresh(secret), {"team_member_ids": [colleague.id, on_team.user.id]},
                              actor=None)
    db.session.commit()
    assert on_team.get(url).status_code == 200
    assert titles(on_team.get("/api/v1/leads").json) == ["Geheimprojekt Halbleiter",
                                                         "Offenes Projekt"]


def test_a_member_reads_but_does_not_change_someone_elses_lead(app, spec, member, manager):
    other = make_user()
    lead = make_lead(actor=other, title="Fremdes Projekt", **PROSPECT_FIELDS)
    url = f"/api/v1/leads/{lead.id}"
    assert member.get(url).status_code == 200
    for response in (member.patch(url, {"version": 1, "title": "Meins"}), member.delete(url),
                     member.post(f"{url}/stage", {"stage": "prospect"})):
        assert response.status_code == 403 and response.json["error"]["code"] == "forbidden"
    lead = fresh(lead)
    assert (lead.title, lead.stage, lead.deleted_at) == ("Fremdes Projekt", "lead", None)
    # A manager changes every lead.
    assert manager.post(f"{url}/stage", {"stage": "prospect"}).status_code == 200


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/v1/leads"), ("POST", "/api/v1/leads"), ("GET", "/api/v1/leads/{id}"),
    ("PATCH", "/api/v1/leads/{id}"), ("DELETE", "/api/v1/leads/{id}"),
    ("POST", "/api/v1/leads/{id}/stage"), ("GET", "/api/v1/reports/pipeline"),
])
def test_without_a_token_no_lead_is_read_or_written(app, spec, method, path):
    lead = make_lead(actor=make_user(), title="Geheim")
    url = path.format(id=lead.id)
    response = app.test_client().open(url, method=method, json={"stage": "prospect",
                                                                "version": 1})
    assert response.status_code == 401
    spec.check_response(method, url, response)
    assert "Geheim" not in response.get_data(as_text=True)


# The pipeline report.


def expected_report(leads):
    """The figures per stage, summed in Python from the leads as the API lists them."""
    stages = []
    for stage in ("lead", "prospect", "active", "decision", "won"):
        of_stage = [lead for lead in leads if lead["stage"] == stage]
        stages.append({
            "stage": stage, "count": len(of_stage),
            "capex_eur": sum(lead["capex_eur"] or 0 for lead in of_stage),
            "new_jobs": sum(lead["new_jobs"] or 0 for lead in of_stage),
            "weighted_capex_eur": round(sum(
                (lead["capex_eur"] or 0) * LIKELIHOOD_WEIGHTS.get(lead["likelihood"], 0)
                for lead in of_stage))})
    totals = {key: sum(s[key] for s in stages) for key in stages[0] if key != "stage"}
    return {"stages": stages, "totals": totals}


def test_the_pipeline_report_is_the_sum_of_the_leads_it_counts(app, spec, member, manager):
    other = make_api(app, spec)
    make_lead(actor=member.user, title="Klein", capex_eur=1_000_000, new_jobs=10, likelihood="low")
    make_lead(actor=member.user, title="Ohne Zahlen")
    make_lead(actor=member.user, title="Prospekt", stage="prospect", sector="sensors",
              investment_type="greenfield", capex_eur=40_000_000, new_jobs=230,
              likelihood="medium")
    make_lead(actor=other.user, title="Aktiv", stage="active",
              **{**PROSPECT_FIELDS, "likelihood": "high"})
    make_lead(actor=member.user, title="Geheim", stage="decision", is_confidential=True,
              **{**DECISION_FIELDS, "capex_eur": 80_000_000, "new_jobs": 500,
                 "likelihood": "high"})
    make_lead(actor=other.user, title="Verloren", capex_eur=9_000_000, status="lost",
              lost_reason="Energiepreise", closed_on="2025-11-03", lost_to="Polen")
    make_lead(actor=other.user, title="Ruhend", capex_eur=3_000_000, status="dormant")
    gone = make_lead(actor=other.user, title="Gelöscht", capex_eur=7_000_000)
    lead_services.delete_lead(gone, actor=None)
    db.session.commit()

    reports = {}
    for name, api in (("owner", member), ("manager", manager), ("other", other)):
        report = api.get("/api/v1/reports/pipeline")
        assert report.status_code == 200
        leads, _ = api.all_pages("/api/v1/leads", limit=200)
        assert report.json == expected_report(leads), name
        reports[name] = report.json
    assert [s["stage"] for s in reports["owner"]["stages"]] == [
        "lead", "prospect", "active", "decision", "won"]
    assert reports["owner"]["stages"][-1] == {"stage": "won", "count": 0, "capex_eur": 0,
                                              "new_jobs": 0, "weighted_capex_eur": 0}
    # The confidential lead counts for its owner and the manager, not for another member.
    assert reports["owner"] == reports["manager"]
    assert reports["owner"]["totals"]["count"] == 5 and reports["other"]["totals"]["count"] == 4
    assert reports["owner"]["stages"][3]["capex_eur"] == 80_000_000
    assert reports["other"]["stages"][3]["count"] == 0
    capex = PROSPECT_FIELDS["capex_eur"]
    assert reports["owner"]["totals"]["capex_eur"] == (
        1_000_000 + 40_000_000 + capex + 80_000_000)
    assert reports["owner"]["totals"]["weighted_capex_eur"] == (
        200_000 + 20_000_000 + round(capex * 0.8) + 64_000_000)

    # With the list's filters: the closed leads when asked for, one owner, one sector.
    for query in ("show_closed=true", "status=lost", f"owner={other.user.id}",
                  "sector=sensors", "mine=true", "q=klein", "stage=prospect"):
        report = member.get(f"/api/v1/reports/pipeline?{query}").json
        leads, _ = member.all_pages(f"/api/v1/leads?{query}", limit=200)
        assert report == expected_report(leads), query
    assert member.get("/api/v1/reports/pipeline?show_closed=true").json["totals"]["count"] == 7


@pytest.mark.parametrize(("query", "field"), [
    ("stage=finished", "stage"), ("decision_from=soon", "decision_from"), ("limit=10", "limit"),
    ("cursor=abc", "cursor"), ("show_closed=perhaps", "show_closed"),
])
def test_a_bad_report_argument_is_a_400_naming_it(member, query, field):
    response = member.get(f"/api/v1/reports/pipeline?{query}")
    assert response.status_code == 400 and error_fields(response) == {field}


def test_the_report_runs_one_query_whatever_the_number_of_leads(app, spec, count_queries,
                                                                 member):
    member.get("/api/v1/me")  # the token's first use is recorded once; not part of the count
    counts = []
    for total in (3, 30):
        for n in range(total - len(member.get("/api/v1/leads?limit=200").json["items"])):
            make_lead(actor=member.user, capex_eur=n * 1000, likelihood="medium")
        with count_queries() as statements:
            assert member.get("/api/v1/reports/pipeline").json["totals"]["count"] == total
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 2  # the token, and the report's one query


# The number of queries of the list.


def test_the_list_runs_the_same_queries_for_10_and_60_leads(app, spec, count_queries):
    api = make_api(app, spec)
    api.get("/api/v1/me")  # the token's first use is recorded once; not part of the count
    users = [api.user, make_user(), make_user()]
    contacts = [make_contact(last_name=f"Gast {n}") for n in range(2)]
    event = make_event(name="Business Breakfast Seoul")
    counts = []
    for total in (10, 60):
        for n in range(total - len(api.get("/api/v1/leads?limit=200").json["items"])):
            owner = users[n % 3]
            make_lead(actor=owner, contact_ids=[c.id for c in contacts],
                      team_member_ids=[u.id for u in users if u is not owner],
                      is_confidential=n % 2 == 0, source_event_id=event.id,
                      capex_eur=n * 100_000, commit=False)
        db.session.commit()
        with count_queries() as statements:
            body = api.get("/api/v1/leads?limit=200").json
        assert len(body["items"]) == total
        assert all(item["contact_ids"] == sorted(c.id for c in contacts) for item in body["items"])
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 6

