"""Every figure of the reports on small, hand-made data, against the number worked out by hand.

Leads are made through the services, then put where the test needs them (stage, status, the
moment a win was confirmed, their history), as the reports only read.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.leads.models import StageChange
from crm.reports import queries
from crm.reports.queries import Filters, Period
from tests.factories import (
    make_activity,
    make_contact,
    make_event,
    make_lead,
    make_organisation,
    make_user,
)

TODAY = date(2026, 11, 22)


def at(*parts):
    return datetime(*parts, tzinfo=UTC)


def won(lead, when, **fields):
    """`lead` won, the win confirmed at `when`, with its figures."""
    for name, value in {"stage": "won", "status": "won", "won_confirmed_at": when,
                        **fields}.items():
        setattr(lead, name, value)
    return lead


def lead(**fields):
    """A lead with the given columns set directly (after the services made it)."""
    made = make_lead(commit=False)
    for name, value in fields.items():
        setattr(made, name, value)
    db.session.flush()
    return made


def filters(period=None, **overrides):
    return Filters(period=period or queries.year(2026), today=TODAY, **overrides)


@pytest.fixture
def manager(app):
    return make_user(role="manager")


# -- Periods ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("period", "previous"), [
    (queries.year(2026), Period(date(2025, 1, 1), date(2025, 12, 31))),
    (queries.quarter(2026, 1), Period(date(2025, 10, 1), date(2025, 12, 31))),
    (queries.quarter(2026, 3), Period(date(2026, 4, 1), date(2026, 6, 30))),
    (Period(date(2026, 2, 1), date(2026, 2, 28)), Period(date(2026, 1, 1), date(2026, 1, 31))),
    (Period(date(2026, 3, 10), date(2026, 3, 19)), Period(date(2026, 2, 28), date(2026, 3, 9))),
])
def test_the_period_before_is_the_year_quarter_months_or_days_before(period, previous):
    assert period.previous() == previous


def test_a_period_runs_from_local_midnight_to_local_midnight(app):
    with app.app_context():
        start, end = queries.year(2026).moments()
    assert start == at(2025, 12, 31, 23, 0)  # midnight in Berlin (winter time)
    assert end == at(2026, 12, 31, 23, 0)


# -- Results ---------------------------------------------------------------------------------

def test_results_add_up_the_wins_of_the_period_split_four_ways(manager):
    won(lead(country="DE", sector="automotive", investment_type="greenfield"),
        at(2026, 3, 1, 10), capex_eur=10_000_000, new_jobs=100, safeguarded_jobs=0)
    won(lead(country="KR", sector="optics_photonics", investment_type="expansion"),
        at(2026, 6, 1, 10), capex_eur=20_000_000, new_jobs=50, safeguarded_jobs=30,
        realised_capex_eur=18_000_000, realised_new_jobs=55)
    won(lead(country="CN", sector="automotive", investment_type="greenfield"),
        at(2026, 9, 1, 10), capex_eur=5_000_000, new_jobs=20)
    won(lead(country="KR", sector="automotive", investment_type="expansion"),
        at(2025, 5, 1, 10), capex_eur=7_000_000, new_jobs=10, safeguarded_jobs=40)
    lead(stage="decision", capex_eur=99_000_000)  # not won: not counted
    db.session.commit()

    result = queries.results(manager, filters())

    total = result.total
    assert (total.current.count, total.current.capex_eur, total.current.new_jobs,
            total.current.safeguarded_jobs) == (3, 35_000_000, 170, 30)
    assert (total.previous.count, total.previous.capex_eur, total.previous.new_jobs,
            total.previous.safeguarded_jobs) == (1, 7_000_000, 10, 40)
    assert (total.current.realised_count, total.current.realised_capex_eur,
            total.current.realised_new_jobs) == (1, 18_000_000, 55)
    assert (total.current.planned_of_realised_capex_eur,
            total.current.planned_of_realised_new_jobs) == (20_000_000, 50)
    by_type = {s.key: (s.current.count, s.current.capex_eur, s.previous.count)
               for s in result.by_investment_type}
    assert by_type == {"greenfield": (2, 15_000_000, 0), "expansion": (1, 20_000_000, 1)}
    by_origin = {s.key: (s.current.count, s.current.capex_eur, s.previous.count)
                 for s in result.by_origin}
    assert by_origin == {"domestic": (1, 10_000_000, 0), "foreign": (2, 25_000_000, 1)}
    by_country = {s.key: s.current.count for s in result.by_country}
    assert by_country == {"DE": 1, "KR": 1, "CN": 1}
    by_sector = {s.key: (s.current.count, s.current.new_jobs) for s in result.by_sector}
    assert by_sector == {"automotive": (2, 120), "optics_photonics": (1, 50)}
    # The biggest CAPEX first.
    assert [s.key for s in result.by_sector] == ["optics_photonics", "automotive"]


def test_a_win_on_31_december_late_in_the_evening_counts_for_that_year(manager):
    won(lead(), at(2025, 12, 31, 22, 30), capex_eur=1)   # 23:30 in Berlin, 31 December
    won(lead(), at(2025, 12, 31, 23, 30), capex_eur=2)   # 00:30 in Berlin, 1 January
    won(lead(), at(2026, 12, 31, 22, 59), capex_eur=4)   # 23:59 in Berlin, 31 December
    won(lead(), at(2026, 12, 31, 23, 0), capex_eur=8)    # midnight in Berlin: next year
    db.session.commit()

    result = queries.results(manager, filters())

    assert result.total.current.capex_eur == 2 + 4
    assert result.total.previous.capex_eur == 1


def test_a_lead_moved_back_out_of_won_no_longer_counts(manager):
    back = won(lead(), at(2026, 3, 1, 10), capex_eur=5_000_000)
    db.session.commit()
    assert queries.results(manager, filters()).total.current.count == 1
    # Going back out of won reopens it: the win is gone with its confirmation.
    back.stage, back.status, back.won_confirmed_at = "decision", "ongoing", None
    db.session.commit()
    assert queries.results(manager, filters()).total.current.count == 0


def test_confidential_wins_count_for_managers_not_for_members_who_may_not_see_them(manager):
    member = make_user(role="member")
    won(lead(is_confidential=True, owner_id=manager.id), at(2026, 3, 1, 10),
        capex_eur=3_000_000)
    won(lead(owner_id=member.id), at(2026, 3, 1, 10), capex_eur=1_000_000)
    db.session.commit()

    assert queries.results(manager, filters()).total.current.capex_eur == 4_000_000
    assert queries.results(member, filters()).total.current.capex_eur == 1_000_000


def test_a_member_sees_only_their_own_figures(manager):
    member = make_user(role="member")
    won(lead(owner_id=member.id), at(2026, 3, 1, 10), capex_eur=1_000_000)
    won(lead(owner_id=manager.id), at(2026, 3, 1, 10), capex_eur=2_000_000)
    on_team = won(lead(owner_id=manager.id), at(2026, 3, 1, 10), capex_eur=4_000_000)
    on_team.team_members.append(member)
    db.session.commit()

    own = filters(own_user_id=member.id)
    assert queries.results(member, own).total.current.capex_eur == 5_000_000
    assert queries.results(manager, filters()).total.current.capex_eur == 7_000_000


def test_results_follow_the_filters(manager):
    partner = make_organisation(name="OptoNet e.V.", kind="partner", commit=False)
    won(lead(sector="automotive", country="KR", owner_id=manager.id), at(2026, 3, 1, 10),
        capex_eur=1)
    won(lead(sector="optics_photonics", country="KR", referral_partner_id=partner.id),
        at(2026, 3, 1, 10), capex_eur=2)
    won(lead(sector="optics_photonics", country="US"), at(2026, 3, 1, 10), capex_eur=4)
    db.session.commit()

    def capex(**chosen):
        return queries.results(manager, filters(**chosen)).total.current.capex_eur

    assert capex(sector="optics_photonics") == 6
    assert capex(country="KR") == 3
    assert capex(owner_id=manager.id) == 1
    assert capex(partner_id=partner.id) == 2


# -- Pipeline --------------------------------------------------------------------------------

def test_the_pipeline_counts_open_leads_by_stage_with_weighted_capex(manager):
    lead(stage="lead", capex_eur=1_000_000, new_jobs=10)
    lead(stage="prospect", capex_eur=10_000_000, new_jobs=50, safeguarded_jobs=5,
         likelihood="medium", sector="automotive", country="KR")
    lead(stage="prospect", capex_eur=20_000_000, new_jobs=100, likelihood="high",
         sector="automotive", country="CN", status="delayed")
    lead(stage="active", capex_eur=30_000_000, likelihood="low", status="dormant",
         expected_decision_on=TODAY + timedelta(days=90))
    lead(stage="active", capex_eur=500, status="lost", closed_on=date(2026, 5, 1))
    won(lead(capex_eur=7), at(2026, 1, 5))
    lead(stage="decision", capex_eur=40_000_000, expected_decision_on=TODAY + timedelta(days=91))
    db.session.commit()

    pipeline = queries.pipeline(manager, filters())

    stages = {stage: (f.count, f.capex_eur, f.jobs, f.weighted_capex)
              for stage, f in pipeline.by_stage.items()}
    assert stages == {
        "lead": (1, 1_000_000, 10, 0),
        "prospect": (2, 30_000_000, 155, 5_000_000 + 16_000_000),
        "active": (1, 30_000_000, 0, 6_000_000),
        "decision": (1, 40_000_000, 0, 0),
    }
    assert pipeline.total.count == 5
    assert pipeline.by_sector["automotive"]["prospect"].count == 2
    assert pipeline.by_sector["automotive"]["total"].capex_eur == 30_000_000
    assert pipeline.by_country["KR"]["total"].count == 1
    assert pipeline.by_country[None]["total"].count == 3
    assert pipeline.decisions_ahead_count == 1
    assert [lead.capex_eur for lead in pipeline.decisions_ahead] == [30_000_000]


# -- Conversion ------------------------------------------------------------------------------

def history(made, *moves):
    """Replace the lead's history with `moves`: (to stage, moment), the first one its start."""
    db.session.execute(sa.delete(StageChange).where(StageChange.lead_id == made.id))
    previous = None
    for stage, moment in moves:
        db.session.add(StageChange(lead_id=made.id, from_stage=previous, to_stage=stage,
                                   from_status="ongoing", to_status="ongoing",
                                   changed_at=moment))
        previous = stage
    made.stage = previous
    made.created_at = moves[0][1]


def test_conversion_shares_and_median_days_in_stage(manager):
    start = at(2026, 2, 1, 9)
    history(lead(), ("lead", start), ("prospect", start + timedelta(days=10)),
            ("active", start + timedelta(days=15)))
    history(lead(), ("lead", start), ("prospect", start + timedelta(days=20)))
    history(lead(), ("lead", start))
    history(lead(), ("lead", start), ("prospect", start + timedelta(days=30)),
            ("active", start + timedelta(days=37)), ("decision", start + timedelta(days=40)),
            ("won", start + timedelta(days=41)))
    history(lead(), ("lead", at(2025, 6, 1)), ("prospect", at(2025, 7, 1)))  # another year
    db.session.commit()

    conversion = queries.conversion(manager, filters())

    assert conversion.reached == {"lead": 4, "prospect": 3, "active": 2, "decision": 1,
                                  "won": 1}
    assert conversion.share_to_next == {"lead": 0.75, "prospect": pytest.approx(2 / 3),
                                        "active": 0.5, "decision": 1.0}
    # Stays that ended: lead 10, 20 and 30 days; prospect 5 and 7; active 3; decision 1.
    assert conversion.median_days == {"lead": pytest.approx(20), "prospect": pytest.approx(6),
                                      "active": pytest.approx(3), "decision": pytest.approx(1)}
    assert conversion.stays == {"lead": 3, "prospect": 2, "active": 1, "decision": 1}


def test_a_lead_moved_back_counts_each_stay_and_a_status_change_ends_none(manager):
    start = at(2026, 3, 1, 9)
    made = lead()
    history(made, ("lead", start), ("prospect", start + timedelta(days=4)),
            ("lead", start + timedelta(days=6)), ("prospect", start + timedelta(days=14)))
    db.session.add(StageChange(lead_id=made.id, from_stage="prospect", to_stage="prospect",
                               from_status="ongoing", to_status="delayed",
                               changed_at=start + timedelta(days=15)))
    db.session.commit()

    conversion = queries.conversion(manager, filters())

    assert conversion.median_days["lead"] == pytest.approx(6)  # stays of 4 and 8 days
    assert conversion.stays["lead"] == 2
    assert conversion.median_days["prospect"] == pytest.approx(2)  # the open stay has no end


def test_stalled_leads_are_open_ones_without_activity_for_the_chosen_days(manager):
    owner = make_user(role="member", name="Lea Schäfer")
    quiet = lead(owner_id=owner.id, created_at=at(2026, 8, 1))
    make_activity(actor=owner, subject=quiet, occurred_at=datetime(2026, 10, 1, 10, 0), commit=False)
    busy = lead(owner_id=owner.id, created_at=at(2026, 8, 1))
    make_activity(actor=owner, subject=busy, occurred_at=datetime(2026, 11, 15, 10, 0), commit=False)
    lead(created_at=at(2026, 11, 20))  # too new to be stalled
    lead(created_at=at(2026, 8, 1), status="lost", closed_on=date(2026, 9, 1))  # not open
    silent = lead(created_at=at(2026, 7, 1))  # never any activity, no owner
    db.session.commit()

    conversion = queries.conversion(manager, filters(stalled_days=30))

    assert [made.id for made, _ in conversion.stalled] == [silent.id, quiet.id]
    assert conversion.stalled_count == 2
    assert sorted((name or "", count) for _, name, count in conversion.stalled_per_owner) == [
        ("", 1), ("Lea Schäfer", 1)]
    assert queries.conversion(manager, filters(stalled_days=60)).stalled_count == 1


# -- Losses ----------------------------------------------------------------------------------

def test_losses_by_reason_stage_reached_and_destination(manager):
    lead(stage="active", status="lost", lost_reason="Lohnkosten", lost_to="Polen",
         closed_on=date(2026, 3, 1), capex_eur=10)
    lead(stage="prospect", status="lost", lost_reason="Lohnkosten", lost_to="Polen",
         closed_on=date(2026, 12, 31), capex_eur=20)
    lead(stage="lead", status="abandoned", lost_reason="Projekt gestoppt",
         closed_on=date(2026, 1, 1), capex_eur=40)
    lead(stage="active", status="lost", lost_reason="Fläche", lost_to="Sachsen",
         closed_on=date(2025, 12, 31), capex_eur=80)  # the year before
    db.session.commit()

    losses = queries.losses(manager, filters())

    assert (losses.total.count, losses.total.capex_eur) == (3, 70)
    assert [(status, reason, f.count, f.capex_eur) for status, reason, f in losses.by_reason] == [
        ("lost", "Lohnkosten", 2, 30), ("abandoned", "Projekt gestoppt", 1, 40)]
    assert {stage: f.count for stage, f in losses.by_stage.items()} == {
        "lead": 1, "prospect": 1, "active": 1, "decision": 0}
    assert [(where, f.count) for where, f in losses.by_destination] == [("Polen", 2)]


# -- Trips and events ------------------------------------------------------------------------

def test_a_trip_adds_up_its_events_people_once_leads_and_wins_with_cost(manager):
    member = make_user(role="member")
    known = make_contact(last_name="Kim", commit=False)
    db.session.flush()
    known.created_at = at(2025, 1, 1)
    new = make_contact(last_name="Park", commit=False)
    other = make_contact(last_name="Lee", commit=False)
    trip = make_event(name="Delegationsreise Seoul", kind="trip", starts_on="2026-04-13",
                      ends_on="2026-04-17", actor=member, commit=False)
    breakfast = make_event(name="Business Breakfast Seoul", kind="business_breakfast",
                           starts_on="2026-04-14", parent_id=trip.id, actor=member,
                           attendees=[{"contact_id": known.id, "status": "met"},
                                      {"contact_id": new.id, "status": "attended"},
                                      {"contact_id": other.id, "status": "invited"}],
                           commit=False)
    visit = make_event(name="Firmenbesuch", kind="company_visit", starts_on="2026-04-15",
                       parent_id=trip.id, actor=member,
                       attendees=[{"contact_id": known.id, "status": "met"}], commit=False)
    trip.cost_eur = 40_000
    lead(source_event_id=breakfast.id, stage="prospect", capex_eur=1_000_000)
    won(lead(source_event_id=visit.id, capex_eur=20_000_000, new_jobs=80), at(2026, 10, 1))
    lead(source_event_id=trip.id, stage="lead")
    make_event(name="Seminar 2025", starts_on="2025-05-01", commit=False)  # another year
    db.session.commit()

    entries = queries.trips_and_events(manager, filters())

    assert [entry.event.name for entry in entries] == ["Delegationsreise Seoul"]
    seoul = entries[0]
    assert (seoul.people_met, seoul.leads.count, seoul.wins.count, seoul.wins.capex_eur) == (
        2, 3, 1, 20_000_000)
    assert seoul.new_contacts == 1  # Park was recorded for the trip, Kim long before
    assert {stage: f.count for stage, f in seoul.leads_by_stage.items()} == {
        "prospect": 1, "won": 1, "lead": 1}
    assert seoul.cost_per_lead == pytest.approx(40_000 / 3)
    assert seoul.cost_per_job == pytest.approx(40_000 / 80)
    children = {entry.event.name: entry for entry in seoul.children}
    assert (children["Business Breakfast Seoul"].people_met,
            children["Business Breakfast Seoul"].leads.count) == (2, 1)
    assert (children["Firmenbesuch"].people_met, children["Firmenbesuch"].wins.count) == (1, 1)
    assert children["Firmenbesuch"].cost_per_lead is None  # no cost of its own


# -- Partners --------------------------------------------------------------------------------

def test_partners_count_referred_leads_and_those_from_events_they_co_organised(manager):
    gtai = make_organisation(name="Germany Trade & Invest", kind="partner", commit=False)
    optonet = make_organisation(name="OptoNet e.V.", kind="partner", commit=False)
    seminar = make_event(name="Investorenseminar", starts_on="2026-05-05",
                         partner_ids=[optonet.id], commit=False)
    lead(referral_partner_id=gtai.id, created_at=at(2026, 2, 1), capex_eur=5)
    won(lead(referral_partner_id=gtai.id, created_at=at(2025, 2, 1)), at(2026, 2, 1),
        capex_eur=100, new_jobs=7)
    lead(source_event_id=seminar.id, created_at=at(2026, 5, 6), capex_eur=3)
    # Referred by GTAI from OptoNet's seminar: both brought it.
    lead(referral_partner_id=gtai.id, source_event_id=seminar.id, created_at=at(2026, 5, 6),
         capex_eur=1)
    db.session.commit()

    partners = {p.name: p for p in queries.partners(manager, filters())}

    gtai_figures = partners["Germany Trade & Invest"]
    assert (gtai_figures.brought.count, gtai_figures.brought.capex_eur) == (2, 6)
    assert (gtai_figures.open.count, gtai_figures.wins.count, gtai_figures.wins.capex_eur,
            gtai_figures.wins.new_jobs) == (2, 1, 100, 7)
    opto = partners["OptoNet e.V."]
    assert (opto.brought.count, opto.brought.capex_eur, opto.wins.count) == (2, 4, 0)
    assert list(partners) == ["Germany Trade & Invest", "OptoNet e.V."]


# -- Team ------------------------------------------------------------------------------------

def test_team_follow_up_per_person(manager):
    lea = make_user(role="member", name="Lea")
    wei = make_user(role="member", name="Wei")
    for due in ("2026-11-01", "2026-11-21", "2026-11-22", "2026-12-01"):
        make_activity(actor=lea, due_on=due, commit=False)
    done = make_activity(actor=wei, due_on="2026-11-01", commit=False)
    done.done_at = at(2026, 11, 2)
    met = [make_contact(last_name=f"Gast {n}", commit=False) for n in range(3)]
    db.session.flush()
    breakfast = make_event(name="Frühstück", starts_on="2026-10-06", actor=wei,
                           attendees=[{"contact_id": c.id, "status": "met"} for c in met],
                           commit=False)
    make_activity(actor=wei, subject=met[0], occurred_at=datetime(2026, 10, 7, 9, 0), commit=False)
    make_activity(actor=wei, subject=met[1], occurred_at=datetime(2026, 10, 6, 18, 0), commit=False)
    db.session.commit()
    assert breakfast.ends_on == date(2026, 10, 6)

    team = {member.name: member for member in queries.team(manager, filters())}

    assert (team["Lea"].open_follow_ups, team["Lea"].overdue) == (4, 2)
    assert (team["Wei"].open_follow_ups, team["Wei"].overdue) == (0, 0)
    # Gast 0 heard from us after the breakfast; Gast 1 only during it; Gast 2 never.
    assert team["Wei"].met_without_follow_up == 2
    assert team["Lea"].met_without_follow_up == 0
    assert [m.name for m in queries.team(lea, filters(own_user_id=lea.id))] == ["Lea"]
