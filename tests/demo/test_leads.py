"""The demo's investor leads: every stage and status, real stage history, the stage rules kept,
wins confirmed by a second person, confidential leads hidden from the other members."""

import itertools
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from crm.activities.models import Activity
from crm.auth.models import User
from crm.auth.permissions import can_view_lead
from crm.core.models import utcnow
from crm.demo import services
from crm.demo.data import KATRIN, TEAM
from crm.demo.leads import LEADS
from crm.extensions import db
from crm.leads import queries, rules
from crm.leads.models import Lead, LeadSource, Stage, StageChange, Status

THURINGIAN_SITES = ("Erfurter Kreuz", "Jena", "Gera", "Eisenach", "Arnstadt", "Nordhausen")


@pytest.fixture
def leads(app):
    services.seed_demo()
    db.session.commit()
    return db.session.scalars(sa.select(Lead).order_by(Lead.id)).all()


def data_of(lead):
    return next(item for item in LEADS
                if item["title"] == lead.title and item["organisation"] == lead.organisation.name)


def user(email):
    return db.session.scalars(sa.select(User).where(User.email == email)).one()


def test_the_data_moves_every_lead_forward_from_the_stage_lead():
    known = {*services.LEAD_FIELDS, "organisation", "by", "team", "contacts", "source_event",
             "referral_partner", "stages", "status", "overrides", "notes"}
    stages = [s.value for s in Stage]
    keys = [(item["title"], item["organisation"]) for item in LEADS]
    assert len(keys) == len(set(keys)) and 25 <= len(keys) <= 35
    for item in LEADS:
        names = [stage for stage, _ in item["stages"]]
        days = [date.fromisoformat(day) for _, day in item["stages"]]
        assert set(item) <= known, set(item) - known
        assert names[0] == Stage.LEAD.value, item["title"]
        assert [stages.index(s) for s in names] == sorted(stages.index(s) for s in names)
        assert days == sorted(days) and days[-1] < utcnow().date(), item["title"]
        if "status" in item:
            assert date.fromisoformat(item["status"]["on"]) >= days[-1], item["title"]


def test_demo_leads_cover_every_stage_and_status(leads):
    assert len(leads) == len(LEADS)
    assert {lead.stage for lead in leads} == {s.value for s in Stage}
    assert {lead.status for lead in leads} == {s.value for s in Status}
    for lead in leads:
        assert (lead.stage == Stage.WON.value) == (lead.status == Status.WON.value), lead.title
    lost_stages = {lead.stage for lead in leads if lead.status == Status.LOST.value}
    assert len(lost_stages) >= 2  # a lost lead keeps the stage it reached
    assert {lead.source for lead in leads} >= {s.value for s in LeadSource} - {"other"}


def test_won_leads_were_confirmed_by_a_manager_who_does_not_own_them(leads):
    won = [lead for lead in leads if lead.stage == Stage.WON.value]
    assert len(won) >= 2
    for lead in won:
        confirmer = lead.won_confirmed_by
        assert confirmer is not None and confirmer.role == "manager", lead.title
        assert confirmer.email == KATRIN and lead.owner_id != confirmer.id, lead.title
        move = lead.stage_changes[-1]
        assert (move.to_stage, move.changed_by_id) == (Stage.WON.value, confirmer.id)
        assert lead.won_confirmed_at == move.changed_at


def test_every_lead_meets_what_its_stage_requires_or_was_overridden(leads):
    overridden = 0
    for lead in leads:
        missing = rules.missing_for(lead, lead.stage)
        if missing:
            entry = [c for c in lead.stage_changes if c.to_stage == lead.stage
                     and c.from_stage != lead.stage][-1]
            assert entry.override_reason, (lead.title, [r.field for r in missing])
            assert entry.changed_by.role == "manager"
            overridden += 1
    assert overridden >= 1  # the demo shows an override too


def test_confidential_leads_are_owned_by_members_and_hidden_from_other_members(leads):
    secret = [lead for lead in leads if lead.is_confidential]
    assert 3 <= len(secret) <= 4
    members = db.session.scalars(sa.select(User).where(User.role == "member")).all()
    manager = user(KATRIN)
    for lead in secret:
        assert lead.owner.role == "member", lead.title
        outsiders = [m for m in members
                     if m.id != lead.owner_id and m not in lead.team_members]
        assert outsiders, lead.title
        for member in outsiders:
            assert not can_view_lead(member, lead)
            seen = db.session.scalars(sa.select(Lead.id).where(queries.visible(member))).all()
            assert lead.id not in seen
        assert can_view_lead(lead.owner, lead) and can_view_lead(manager, lead)
    # The manager sees them all; each member misses the secrets of the others.
    everything = len(db.session.scalars(sa.select(Lead.id).where(queries.visible(manager))).all())
    for member in members:
        assert len(db.session.scalars(sa.select(Lead.id).where(
            queries.visible(member))).all()) < everything


def test_stage_history_has_a_row_for_every_move(leads):
    for lead in leads:
        item = data_of(lead)
        history = lead.stage_changes
        moves = [c for c in history if c.is_stage_move]
        assert [(c.to_stage, c.changed_at.date().isoformat()) for c in moves] == \
            [tuple(step) for step in item["stages"]], lead.title
        assert moves[0].from_stage is None and moves[0].from_status is None
        for before, after in itertools.pairwise(history):
            assert after.from_stage == before.to_stage and after.from_status == before.to_status
            assert after.changed_at >= before.changed_at
        assert (history[-1].to_stage, history[-1].to_status) == (lead.stage, lead.status)
        assert lead.stage_entered_at == moves[-1].changed_at
        owner = lead.owner_id
        for change in moves:
            expected = user(KATRIN).id if (change.to_stage == Stage.WON.value
                                           or change.override_reason) else owner
            assert change.changed_by_id == expected, (lead.title, change.to_stage)
        status_changes = [c for c in history if not c.is_stage_move]
        if "status" in item:
            assert [(c.to_status, c.changed_at.date().isoformat()) for c in status_changes] == \
                [(item["status"]["status"], item["status"]["on"])]
        else:
            assert status_changes == []
        assert sum(days for _, days in queries.days_per_stage(lead.stage_changes)) >= 0


def test_lost_and_abandoned_leads_say_why_when_and_where(leads):
    for lead in leads:
        if lead.status in (Status.LOST.value, Status.ABANDONED.value):
            assert lead.lost_reason and lead.closed_on, lead.title
            assert (lead.lost_to is not None) == (lead.status == Status.LOST.value)
        else:
            assert lead.lost_reason is None and lead.closed_on is None and lead.lost_to is None
    lost_to = {lead.lost_to for lead in leads if lead.lost_to}
    assert {"Polen", "Ungarn"} <= lost_to and any("Sachsen" in place for place in lost_to)


def test_lead_figures_and_fields_are_realistic(leads):
    team = {person["email"] for person in TEAM}
    for lead in leads:
        assert lead.capex_unknown or 1_000_000 <= lead.capex_eur <= 250_000_000, lead.title
        assert isinstance(lead.capex_eur, int | None)
        assert lead.new_jobs_unknown or 10 <= lead.new_jobs <= 800, lead.title
        assert lead.safeguarded_jobs is None or 0 <= lead.safeguarded_jobs <= 800
        if lead.expected_decision_on is not None:
            assert 2025 <= lead.expected_decision_on.year <= 2027, lead.title
        assert lead.sector and lead.country and lead.investment_type and lead.business_activity
        assert lead.owner.email in team and {u.email for u in lead.team_members} <= team
        assert lead.owner not in lead.team_members
        if lead.stage in (Stage.ACTIVE.value, Stage.DECISION.value, Stage.WON.value):
            assert any(site in lead.candidate_sites for site in THURINGIAN_SITES), lead.title
        if lead.chosen_site:
            assert any(site in lead.chosen_site for site in THURINGIAN_SITES), lead.title
        # The contacts work at the lead's organisation (or its parent).
        homes = {lead.organisation_id, lead.organisation.parent_id}
        for contact in lead.contacts:
            assert {a.organisation_id for a in contact.current_affiliations} & homes
        if lead.source in (LeadSource.EVENT.value, LeadSource.TRIP.value):
            assert lead.source_event is not None, lead.title
            assert lead.source_event.is_trip == (lead.source == LeadSource.TRIP.value)
        if lead.source == LeadSource.PARTNER_REFERRAL.value:
            assert lead.referral_partner.kind == "partner", lead.title
        else:
            assert lead.referral_partner is None
        if lead.source == LeadSource.EXISTING_INVESTOR.value:
            assert lead.is_new_investor is False
    assert {lead.referral_partner.name for lead in leads if lead.referral_partner} == {
        "Germany Trade & Invest (GTAI)", "OptoNet e.V.", "automotive thüringen e.V."}
    assert {lead.country for lead in leads} >= {"KR", "US", "CN"}
    assert any(lead.capex_unknown for lead in leads) and any(lead.capex_is_estimate
                                                              for lead in leads)
    assert {lead.likelihood for lead in leads} >= {"low", "medium", "high"}


def test_activities_on_leads_with_open_follow_ups(leads):
    notes = db.session.scalars(sa.select(Activity).where(Activity.lead_id.is_not(None))).all()
    assert len(notes) == sum(len(item.get("notes", [])) for item in LEADS) >= 8
    today = utcnow().date()
    open_follow_ups = [n for n in notes if n.due_on is not None and n.done_at is None]
    assert 1 <= len(open_follow_ups) <= 2
    for follow_up in open_follow_ups:
        assert today < follow_up.due_on <= today + timedelta(days=30)
        assert follow_up.assignee_id is not None
    for note in notes:
        if note.lead.is_confidential:
            # Nothing about a confidential lead shows on an organisation's or contact's page.
            assert note.organisation_id is None and note.contact_id is None
        else:
            assert note.organisation_id == note.lead.organisation_id


def test_stage_changes_are_only_of_demo_leads(leads):
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StageChange)) == sum(
        len(item["stages"]) + ("status" in item) for item in LEADS)
