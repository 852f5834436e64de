import pytest
import sqlalchemy as sa

from crm.audit.models import AuditEntry
from crm.core.services import ValidationError
from crm.extensions import db
from crm.leads import services
from crm.leads.models import Lead
from crm.leads.services import StageRefused
from tests.factories import (
    ACTIVE_FIELDS,
    DECISION_FIELDS,
    PROSPECT_FIELDS,
    make_event,
    make_lead,
    make_organisation,
    make_user,
)


@pytest.fixture
def people(app):
    return {"member": make_user(), "other": make_user(), "manager": make_user(role="manager"),
            "boss": make_user(role="manager")}


def test_a_new_lead_starts_at_lead_ongoing_owned_by_its_creator(people):
    lead = make_lead(actor=people["member"])
    assert (lead.stage, lead.status, lead.owner_id) == ("lead", "ongoing", people["member"].id)
    assert [(c.from_stage, c.to_stage) for c in lead.stage_changes] == [(None, "lead")]


def test_moving_forward_is_refused_with_what_is_missing_and_changes_nothing(people):
    lead = make_lead(actor=people["member"], sector="automotive")
    with pytest.raises(StageRefused) as raised:
        services.change_stage(lead, "prospect", actor=people["member"])
    assert {r.field for r in raised.value.missing} == {"investment_type", "capex_eur", "new_jobs"}
    assert set(raised.value.fields) == {"investment_type", "capex_eur", "new_jobs"}
    db.session.rollback()
    assert db.session.get(Lead, lead.id).stage == "lead"


def test_a_series_of_moves_writes_the_history(people):
    member, manager = people["member"], people["boss"]
    lead = make_lead(actor=member, owner_id=member.id, **DECISION_FIELDS)
    for stage in ("prospect", "active", "decision"):
        services.change_stage(lead, stage, actor=member)
    services.change_status(lead, "delayed", actor=member)
    services.change_stage(lead, "won", actor=manager)
    services.change_stage(lead, "active", actor=manager)
    db.session.commit()
    history = [(c.from_stage, c.to_stage, c.from_status, c.to_status, c.changed_by_id)
               for c in lead.stage_changes]
    assert history == [
        (None, "lead", None, "ongoing", member.id),
        ("lead", "prospect", "ongoing", "ongoing", member.id),
        ("prospect", "active", "ongoing", "ongoing", member.id),
        ("active", "decision", "ongoing", "ongoing", member.id),
        ("decision", "decision", "ongoing", "delayed", member.id),
        ("decision", "won", "delayed", "won", manager.id),
        ("won", "active", "won", "ongoing", manager.id),  # leaving won reopens the status
    ]
    assert lead.won_confirmed_by_id is None


def test_only_a_manager_who_is_not_the_owner_confirms_a_win(people):
    owner_manager = people["manager"]
    lead = make_lead(actor=owner_manager, owner_id=owner_manager.id, **DECISION_FIELDS)
    services.change_stage(lead, "decision", actor=owner_manager)
    for actor in (people["member"], owner_manager):
        with pytest.raises(StageRefused):
            services.change_stage(lead, "won", actor=actor)
    services.change_stage(lead, "won", actor=people["boss"])
    assert (lead.stage, lead.status, lead.won_confirmed_by_id) == ("won", "won", people["boss"].id)


def test_a_manager_may_override_with_a_reason_which_is_recorded(people):
    lead = make_lead(actor=people["member"])
    with pytest.raises(StageRefused):  # a member may not, even with a reason
        services.change_stage(lead, "active", actor=people["member"], override_reason="Eilig")
    services.change_stage(lead, "active", actor=people["manager"],
                          override_reason="Investor hat Termin beim Minister")
    db.session.commit()
    assert lead.stage == "active"
    assert lead.stage_changes[-1].override_reason == "Investor hat Termin beim Minister"
    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "lead.stage_override")).one()
    assert entry.changes["override_reason"] == [None, "Investor hat Termin beim Minister"]


def test_moving_back_needs_no_requirements(people):
    lead = make_lead(actor=people["member"], **PROSPECT_FIELDS)
    services.change_stage(lead, "prospect", actor=people["member"])
    services.change_stage(lead, "lead", actor=people["member"])
    assert lead.stage == "lead"


@pytest.mark.parametrize(("status", "data", "fields"), [
    ("lost", {}, {"lost_reason", "closed_on", "lost_to"}),
    ("lost", {"reason": "Förderung zu gering", "closed_on": "2026-03-01"}, {"lost_to"}),
    ("abandoned", {"reason": "Projekt gestoppt"}, {"closed_on"}),
    ("won", {}, {"status"}),
    ("asleep", {}, {"status"}),
])
def test_closing_a_lead_needs_reason_date_and_where_it_went(people, status, data, fields):
    lead = make_lead(actor=people["member"])
    with pytest.raises(ValidationError) as raised:
        services.change_status(lead, status, actor=people["member"], **data)
    assert set(raised.value.fields) == fields


def test_a_lost_lead_keeps_its_stage_and_cannot_move_until_reopened(people):
    lead = make_lead(actor=people["member"], **PROSPECT_FIELDS)
    services.change_stage(lead, "prospect", actor=people["member"])
    services.change_status(lead, "lost", actor=people["member"], reason="Standort Polen günstiger",
                           closed_on="01.03.2026", lost_to="Polen")
    assert (lead.stage, lead.status, lead.lost_to) == ("prospect", "lost", "Polen")
    with pytest.raises(StageRefused):
        services.change_stage(lead, "active", actor=people["member"])
    services.change_status(lead, "ongoing", actor=people["member"])
    assert lead.lost_reason is None and lead.lost_to is None


@pytest.mark.parametrize(("data", "field"), [
    ({"capex_eur": -5}, "capex_eur"), ({"capex_eur": "-1.000"}, "capex_eur"),
    ({"new_jobs": -1}, "new_jobs"), ({"new_jobs": "12,5"}, "new_jobs"),
    ({"capex_eur": "viel"}, "capex_eur"), ({"likelihood": "maybe"}, "likelihood"),
    ({"expected_decision_on": "soon"}, "expected_decision_on"), ({"sector": "space"}, "sector"),
    ({"organisation_id": 4242}, "organisation_id"), ({"title": ""}, "title"),
    ({"source_event_id": 4242}, "source_event_id"), ({"owner_id": 4242}, "owner_id"),
    ({"stage": "finished"}, "stage"),
])
def test_bad_input_names_the_field_and_saves_nothing(people, data, field):
    organisation = make_organisation()
    with pytest.raises(ValidationError) as raised:
        services.create_lead({"title": "Projekt", "organisation_id": organisation.id, **data},
                             actor=people["member"])
    assert field in raised.value.fields
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Lead.id))) == 0


@pytest.mark.parametrize(("text", "euros"), [
    ("12.500.000", 12_500_000), ("12,5 Mio.", 12_500_000), ("12,5 Mio. €", 12_500_000),
    ("2 Mrd.", 2_000_000_000), ("250.000 €", 250_000), (12_500_000, 12_500_000),
])
def test_german_amounts_are_understood(people, text, euros):
    assert make_lead(actor=people["member"], capex_eur=text, new_jobs="1.200").capex_eur == euros


def test_a_lead_from_an_event_takes_it_as_its_source(people):
    trip = make_event(kind="trip", starts_on="2024-09-02", ends_on="2024-09-06")
    organisation = make_organisation(name="Kia", country="KR", sectors=["automotive"])
    values = services.prefill(organisation=organisation, event=trip)
    assert values["source"] == "trip" and values["source_event_id"] == trip.id
    assert values["country"] == "KR" and values["sector"] == "automotive"


def test_a_refused_move_in_an_update_leaves_nothing_half_saved(people):
    lead = make_lead(actor=people["member"], title="Alt")
    with pytest.raises(StageRefused):
        services.update_lead(lead, {"title": "Neu", "stage": "decision"}, actor=people["member"])
    db.session.commit()
    db.session.expire_all()
    assert (lead.title, lead.stage) == ("Alt", "lead")
    organisation = make_organisation()
    with pytest.raises(StageRefused):
        services.create_lead({"title": "Halb", "organisation_id": organisation.id,
                              "stage": "active"}, actor=people["member"])
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(Lead.id)).where(Lead.title == "Halb")) == 0


def test_a_deleted_lead_cannot_be_moved(people):
    lead = make_lead(actor=people["member"], **PROSPECT_FIELDS)
    services.delete_lead(lead, actor=people["member"])
    from crm.core.services import NotFoundError

    for move in (lambda: services.change_stage(lead, "prospect", actor=people["member"]),
                 lambda: services.change_status(lead, "dormant", actor=people["member"])):
        with pytest.raises(NotFoundError):
            move()


def test_the_details_of_a_lost_lead_can_be_corrected_and_are_audited(people):
    lead = make_lead(actor=people["member"])
    services.change_status(lead, "lost", actor=people["member"], reason="Kosten",
                           closed_on="2026-01-10", lost_to="Polen")
    services.change_status(lead, "lost", actor=people["member"], reason="Kosten",
                           closed_on="2026-01-10", lost_to="Ungarn")
    services.change_status(lead, "ongoing", actor=people["member"])
    db.session.commit()
    entries = db.session.scalars(sa.select(AuditEntry.changes).where(
        AuditEntry.action == "lead.status").order_by(AuditEntry.id)).all()
    assert entries[1] == {"lost_to": ["Polen", "Ungarn"]}
    assert entries[2]["lost_reason"] == ["Kosten", None]
    assert [c.to_status for c in lead.stage_changes] == ["ongoing", "lost", "ongoing"]


def test_only_a_manager_reopens_a_won_lead(people):
    member = people["member"]
    lead = make_lead(actor=member, owner_id=member.id, **DECISION_FIELDS)
    services.change_stage(lead, "decision", actor=member)
    services.change_stage(lead, "won", actor=people["boss"])
    with pytest.raises(StageRefused):
        services.change_stage(lead, "decision", actor=member)
    services.change_stage(lead, "decision", actor=people["manager"])
    assert (lead.stage, lead.status) == ("decision", "ongoing")


def test_corrected_loss_details_go_through_an_update(people):
    lead = make_lead(actor=people["member"])
    services.change_status(lead, "lost", actor=people["member"], reason="Kosten",
                           closed_on="2026-01-10", lost_to="Polen")
    services.update_lead(lead, {"lost_to": "Ungarn"}, actor=people["member"])
    assert lead.lost_to == "Ungarn"
    with pytest.raises(ValidationError) as raised:
        services.update_lead(lead, {"override_reason": "Eilig"}, actor=people["member"])
    assert "override_reason" in raised.value.fields


def test_the_win_needs_four_eyes_whatever_the_way(people):
    manager, boss = people["manager"], people["boss"]
    lead = make_lead(actor=manager, owner_id=manager.id, **DECISION_FIELDS)
    # Not straight from an earlier stage, not even by another manager.
    with pytest.raises(StageRefused):
        services.change_stage(lead, "won", actor=boss)
    services.change_stage(lead, "decision", actor=boss)  # boss claims the decision
    # Handing the lead to someone else in the same edit does not make the owner a second person.
    with pytest.raises(StageRefused):
        services.update_lead(lead, {"owner_id": people["member"].id, "stage": "won"},
                             actor=manager)
    # Who moved it into decision cannot confirm it either.
    with pytest.raises(StageRefused):
        services.change_stage(lead, "won", actor=boss)
    organisation = make_organisation()
    with pytest.raises(StageRefused):
        services.create_lead({"title": "Gleich gewonnen", "organisation_id": organisation.id,
                              "owner_id": people["member"].id, "stage": "won",
                              **DECISION_FIELDS}, actor=manager)
    third = make_user(role="manager")
    services.change_stage(lead, "won", actor=third)
    assert lead.won_confirmed_by_id == third.id


def test_an_edit_cannot_take_away_what_the_stage_needs(people):
    member = people["member"]
    lead = make_lead(actor=member, owner_id=member.id, **ACTIVE_FIELDS)
    services.change_stage(lead, "active", actor=member)
    db.session.commit()
    with pytest.raises(StageRefused) as raised:
        services.update_lead(lead, {"likelihood": None, "sector": None}, actor=member)
    assert set(raised.value.fields) == {"likelihood", "sector"}
    db.session.rollback()
    assert (lead.likelihood, lead.sector) == ("medium", "automotive")
    services.update_lead(lead, {"title": "Neuer Titel"}, actor=member)  # other edits are fine


def test_only_a_manager_changes_the_figures_of_a_won_lead(people):
    member = people["member"]
    lead = make_lead(actor=member, owner_id=member.id, **DECISION_FIELDS)
    services.change_stage(lead, "decision", actor=member)
    services.change_stage(lead, "won", actor=people["boss"])
    with pytest.raises(ValidationError) as raised:
        services.update_lead(lead, {"capex_eur": 999_999_999_999}, actor=member)
    assert "capex_eur" in raised.value.fields
    services.update_lead(lead, {"realised_capex_eur": "24 Mio."}, actor=member)
    services.update_lead(lead, {"capex_eur": 30_000_000}, actor=people["boss"])
    assert (lead.capex_eur, lead.realised_capex_eur) == (30_000_000, 24_000_000)


@pytest.mark.parametrize("closed_on", ["2999-01-01", "0001-01-01"])
def test_a_loss_date_must_be_plausible(people, closed_on):
    lead = make_lead(actor=people["member"])
    with pytest.raises(ValidationError) as raised:
        services.change_status(lead, "lost", actor=people["member"], reason="x",
                               closed_on=closed_on, lost_to="Polen")
    assert "closed_on" in raised.value.fields


@pytest.mark.parametrize("text", ["12.5", "1,5", "0,4", "1.2", 12.5])
def test_fractions_without_a_unit_are_refused_not_guessed(people, text):
    organisation = make_organisation()
    with pytest.raises(ValidationError) as raised:
        services.create_lead({"title": "x", "organisation_id": organisation.id,
                              "capex_eur": text}, actor=people["member"])
    assert "capex_eur" in raised.value.fields


def test_a_won_lead_counts_in_full_in_the_weighted_pipeline(people):
    from crm.leads import rules

    lead = make_lead(actor=people["member"], **{**DECISION_FIELDS, "likelihood": "low"})
    services.change_stage(lead, "decision", actor=people["member"])
    assert rules.weighted_capex(lead) == 5_000_000
    services.change_stage(lead, "won", actor=people["boss"])
    assert rules.weighted_capex(lead) == 25_000_000


def test_a_lead_is_closed_on_a_day_not_in_the_future_of_germany(app):
    """Today in Berlin is taken (also while UTC is still at yesterday, 00:00-01:00 in Berlin);
    the day after is refused by name."""
    from datetime import timedelta

    from crm.core.models import local_today

    lead = make_lead()
    with pytest.raises(ValidationError) as refused:
        services.change_status(lead, "abandoned", actor=None, reason="Kein Vorhaben",
                               closed_on=(local_today() + timedelta(days=1)).isoformat())
    assert "closed_on" in refused.value.fields
    services.change_status(lead, "abandoned", actor=None, reason="Kein Vorhaben",
                           closed_on=local_today().isoformat())
    assert lead.closed_on == local_today()


def test_todays_date_is_berlins_while_utc_is_still_at_yesterday(app, monkeypatch):
    from datetime import UTC, date, datetime

    from crm.core import models

    monkeypatch.setattr(models, "utcnow", lambda: datetime(2026, 12, 6, 23, 30, tzinfo=UTC))
    assert models.local_today() == date(2026, 12, 7)  # 00:30 in Berlin
    monkeypatch.setattr(models, "utcnow", lambda: datetime(2026, 7, 6, 21, 59, tzinfo=UTC))
    assert models.local_today() == date(2026, 7, 6)  # 23:59 in Berlin, summer time
