from datetime import date

import pytest
import sqlalchemy as sa

from crm.activities.models import Activity
from crm.activities.queries import met_without_activity_since
from crm.activities.services import event_end
from crm.audit.models import AuditEntry
from crm.auth.models import User
from crm.contacts import queries as contact_queries
from crm.contacts.models import Contact
from crm.core.models import utcnow
from crm.demo import services
from crm.demo.data import CHINA_2025, EVENTS, ORGANISATIONS, SOUTH_KOREA_2024, TEAM, USA_2025
from crm.demo.leads import LEADS
from crm.demo.people import CONTACTS, NOTES
from crm.duplicates.queries import contact_groups
from crm.events.models import Attendance, Event
from crm.extensions import db
from crm.leads.models import StageChange
from crm.organisations import services as organisation_services
from crm.organisations.models import Organisation

LEAD_NOTES = sum(len(lead.get("notes", [])) for lead in LEADS)


def dump_database():
    """Every row of every table, so two states of the database can be compared."""
    return {
        table.name: sorted(map(tuple, db.session.execute(sa.select(table)).all()), key=repr)
        for table in db.metadata.sorted_tables
    }


@pytest.fixture
def seeded(app):
    services.seed_demo()
    db.session.commit()
    return app


def event_named(name):
    return db.session.scalars(sa.select(Event).where(Event.name == name)).one()


def organisation_named(name):
    return db.session.scalars(sa.select(Organisation).where(Organisation.name == name)).one()


def contact_with(email):
    return db.session.scalars(sa.select(Contact).where(Contact.email == email)).one()


def test_seed_demo_fills_an_empty_database(app):
    assert services.database_is_empty()
    added = services.seed_demo()
    db.session.commit()
    assert added == {
        "users": len(TEAM),
        "organisations": len(ORGANISATIONS),
        "contacts": len(CONTACTS),
        "events": sum(1 + len(event.get("events", [])) for event in EVENTS),
        "attendances": sum(len(e.get("attendees", {}))
                           for trip in EVENTS for e in [trip, *trip.get("events", [])]),
        "leads": len(LEADS),
        "activities": len(NOTES) + LEAD_NOTES,
    }
    assert 40 <= added["contacts"] <= 60 and 25 <= added["leads"] <= 35
    assert not services.database_is_empty()


def test_seed_demo_twice_changes_nothing(app):
    services.seed_demo()
    db.session.commit()
    before = dump_database()
    assert len(before["leads"]) == len(LEADS) and len(before["stage_changes"]) > len(LEADS)
    added = services.seed_demo()
    db.session.commit()
    assert all(count == 0 for count in added.values())
    assert dump_database() == before


def test_seed_demo_command_with_if_empty_leaves_a_used_database_alone(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["crm", "seed-demo", "--if-empty"]).output
    assert f"5 users, {len(ORGANISATIONS)} organisations" in first
    assert f"{len(LEADS)} leads" in first and "activities added" in first
    assert "not loaded" in runner.invoke(args=["crm", "seed-demo", "--if-empty"]).output
    again = runner.invoke(args=["crm", "seed-demo"]).output
    assert ("0 users, 0 organisations, 0 contacts, 0 events, 0 attendances, 0 leads, "
            "0 activities added") in again


def test_demo_names_keep_their_scripts(seeded):
    names = set(db.session.scalars(sa.text("SELECT name FROM users")))
    assert {"Lea Schäfer", "Min-jung Kim (김민정)", "Wei Zhang (张伟)"} <= names
    displayed = {contact.display_name for contact in db.session.scalars(sa.select(Contact))}
    assert {"이정훈", "王浩然", "Dr. Aylin Özdemir", "Stefanie Weiß"} <= displayed


def test_the_trips_hold_their_events(seeded):
    trips = {trip.name: trip for trip in db.session.scalars(
        sa.select(Event).where(Event.kind == "trip"))}
    assert set(trips) == {SOUTH_KOREA_2024, USA_2025, CHINA_2025}
    korea, usa, china = trips[SOUTH_KOREA_2024], trips[USA_2025], trips[CHINA_2025]
    assert (korea.starts_on, korea.ends_on) == (date(2024, 9, 1), date(2024, 9, 7))
    assert (usa.starts_on, usa.ends_on) == (date(2025, 5, 18), date(2025, 5, 25))
    assert (china.starts_on.year, china.starts_on.month, china.ends_on.month) == (2025, 10, 10)

    def kinds_in(trip):
        return {e.kind for e in db.session.scalars(sa.select(Event).where(
            Event.parent_id == trip.id))}

    assert {"business_breakfast", "networking", "investor_seminar"} <= kinds_in(korea)
    assert event_named("Gespräch mit Repräsentanten der Stadt Ansan").parent == korea
    dinner = event_named("Asparagus Dinner der AHK USA")
    assert (dinner.parent, dinner.city, dinner.kind) == (usa, "New York", "reception")
    assert {"Washington D.C.", "New York", "Boston", "Cambridge"} <= {
        e.city for e in db.session.scalars(sa.select(Event).where(Event.parent_id == usa.id))}
    for name in ("Thüringen-Abend Beijing", "Besuch bei Jenoptik Shanghai",
                 "Besuch im Deutschen Mittelstandszentrum Taicang",
                 "Besuch der Start-up-Factory Kunshan"):
        assert event_named(name).parent == china


def test_every_event_lies_within_its_trip(seeded):
    events = db.session.scalars(sa.select(Event).where(Event.parent_id.is_not(None))).all()
    assert len(events) >= 25
    for event in events:
        assert event.parent.starts_on <= event.starts_on <= event.ends_on <= event.parent.ends_on


def test_the_trips_carry_their_cost_and_their_events_none_of_their_own(seeded):
    """A trip's cost covers its events, so the reports do not count it twice."""
    assert {name: event_named(name).cost_eur for name in (
        SOUTH_KOREA_2024, USA_2025, CHINA_2025, "Business Breakfast beim Botschafter, Seoul")} \
        == {SOUTH_KOREA_2024: 38_500, USA_2025: 42_000, CHINA_2025: 36_000,
            "Business Breakfast beim Botschafter, Seoul": 2_400}
    assert db.session.scalars(sa.select(Event).where(
        Event.parent_id.is_not(None), Event.cost_eur.is_not(None))).all() == []


def test_the_partners_of_the_south_korea_trip(seeded):
    partners = {o.name for o in event_named(SOUTH_KOREA_2024).partners}
    assert partners == {"Germany Trade & Invest (GTAI)", "OptoNet e.V.",
                        "automotive thüringen e.V."}
    assert {o.kind for o in event_named(SOUTH_KOREA_2024).partners} == {"partner"}


def test_organisations_have_kind_country_and_parent(seeded):
    jenoptik_shanghai = organisation_named("Jenoptik Shanghai")
    assert jenoptik_shanghai.parent == organisation_named("Jenoptik AG")
    assert (jenoptik_shanghai.country, jenoptik_shanghai.city) == ("CN", "Shanghai")
    assert organisation_named("Harvard University").kind == "university"
    assert organisation_named("Massachusetts Institute of Technology (MIT)").kind == "university"
    assert organisation_named("Stadt Ansan (안산시)").kind == "public_body"
    hyundai = organisation_named("Hyundai Motor Company")
    assert (hyundai.kind, hyundai.country) == ("investor", "KR")
    assert "automotive" in hyundai.sectors
    assert organisation_named("DataRobot, Inc.").city == "Boston"


SEARCHES = [
    ("jung-hoon", "이정훈"),
    ("Lee Jung-hoon", "이정훈"),
    ("정훈", "이정훈"),
    ("이정훈", "이정훈"),
    ("wang haoran", "王浩然"),
    ("Haoran", "王浩然"),
    ("王浩然", "王浩然"),
    ("MUELLER", "Dr. Sabine Müller"),
    ("muller", "Dr. Sabine Müller"),
    ("schaefer", "Tobias Schäfer"),
    ("ozdemir", "Dr. Aylin Özdemir"),
    ("weiss", "Stefanie Weiß"),
]


def test_people_are_found_by_their_folded_names(seeded):
    for query, name in SEARCHES:
        found = db.session.scalars(contact_queries.contact_list(q=query)).all()
        assert name in {contact.display_name for contact in found}, query


def test_people_in_other_scripts_carry_their_latin_spelling(seeded):
    lee = contact_with("junghoon.lee@ansan.example")
    assert (lee.last_name, lee.first_name, lee.latin_name) == ("이", "정훈", "Lee Jung-hoon")
    assert "lee jung-hoon" in lee.search_text and lee.language == "ko"
    wang = contact_with("haoran.wang@huawei.example")
    assert "wang haoran" in wang.search_text and wang.language == "zh"
    assert wang.phone.startswith("+86") and lee.phone.startswith("+82")
    assert [a.organisation.name for a in lee.current_affiliations] == ["Stadt Ansan (안산시)"]


def test_people_are_affiliated_owned_and_sourced(seeded):
    team = {u.id for u in db.session.scalars(sa.select(User))}
    for contact in db.session.scalars(sa.select(Contact)):
        assert contact.current_affiliations, contact.display_name
        assert contact.owner_id in team and contact.created_by_id == contact.owner_id
        assert contact.source and contact.legal_basis and contact.language
        assert contact.email.endswith(".example")
    assert {c.legal_basis for c in db.session.scalars(sa.select(Contact))} >= {
        "public_task", "legitimate_interest", "consent"}
    boehm = contact_with("stefan.boehm@jenoptik.example")
    assert {(a.organisation.name, a.is_current) for a in boehm.affiliations} == {
        ("Jenoptik Shanghai", True), ("Jenoptik AG", False)}


def test_attendances_and_notes(seeded):
    dinner = event_named("Asparagus Dinner der AHK USA")
    statuses = {a.contact.email: a.status for a in dinner.attendances}
    assert statuses["emily.carter@gaccny.example"] == "met"
    assert {a.status for a in db.session.scalars(sa.select(Attendance))} == {
        "invited", "registered", "attended", "met"}
    breakfast = event_named("Business Breakfast Seoul")
    note = db.session.scalars(sa.select(Activity).where(
        Activity.event_id == breakfast.id, Activity.occurred_at < event_end(breakfast))).one()
    assert note.contact.email == "dohyun.kim@hyundai.example"
    assert note.organisation.name == "Hyundai Motor Company"
    assert note.author.email == "minjung.kim@lotse.example"
    follow_ups = db.session.scalars(sa.select(Activity).where(Activity.due_on.is_not(None))).all()
    assert len(follow_ups) >= 3 and all(f.assignee_id for f in follow_ups)


TRIP_EVENTS = ("Business Breakfast Seoul", "Asparagus Dinner der AHK USA",
               "Thüringen-Abend Beijing")


def test_follow_ups_after_the_trips_some_done_some_overdue(seeded):
    today = utcnow().date()
    for name in TRIP_EVENTS:
        event = event_named(name)
        after = db.session.scalars(sa.select(Activity).where(
            Activity.event_id == event.id, Activity.occurred_at >= event_end(event),
            Activity.due_on.is_not(None))).all()
        assert any(a.done_at is not None for a in after), name
        assert any(a.done_at is None and a.due_on < today for a in after), name
        assert all(a.contact is not None and a.organisation is not None for a in after), name
    follow_ups = db.session.scalars(sa.select(Activity).where(Activity.due_on.is_not(None))).all()
    done = [f for f in follow_ups if f.done_at is not None]
    still_open = [f for f in follow_ups if f.done_at is None]
    assert len(done) == sum("done_at" in n or "done_days_ago" in n for n in NOTES)
    assert 4 <= len(done) <= 8
    for follow_up in done:
        assert follow_up.done_by_id == follow_up.assignee_id
        assert follow_up.occurred_at <= follow_up.done_at <= utcnow()
    overdue = [f for f in still_open if f.due_on < today]
    assert len(overdue) >= 5 and len({f.assignee_id for f in overdue}) >= 4
    assert any(f.due_on == today for f in still_open)
    assert {f.assignee.email for f in still_open} == {person["email"] for person in TEAM}
    done_entries = db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(
        AuditEntry.action == "activity.done"))
    assert done_entries == len(done)


def test_some_people_met_at_the_seoul_breakfast_have_heard_nothing_since(seeded, login):
    breakfast = event_named("Business Breakfast Seoul")
    waiting = db.session.scalars(met_without_activity_since(breakfast, event_end(breakfast)))
    assert {a.contact.email for a in waiting} == {
        "jimin.kang@samsung.example", "stefanie.weiss@ahk-korea.example",
        "julia.richter@diplo.example", "jens.hoffmann@gtai.example"}
    _, client = login()
    page = client.get(f"/events/{breakfast.id}").get_data(as_text=True)
    assert "4 hier getroffene Personen haben seitdem nichts von uns gehört" in page
    assert "Stefanie Weiß" in page


def test_everything_is_in_the_audit_log_under_its_author(seeded):
    counts = dict(db.session.execute(sa.select(AuditEntry.action, sa.func.count())
                                     .group_by(AuditEntry.action)).all())
    assert counts["organisation.create"] == len(ORGANISATIONS)
    assert counts["contact.create"] == len(CONTACTS)
    assert counts["activity.create"] == len(NOTES) + LEAD_NOTES
    assert counts["lead.create"] == len(LEADS)
    assert counts["lead.stage"] + counts["lead.stage_override"] == db.session.scalar(
        sa.select(sa.func.count()).select_from(StageChange).where(
            StageChange.from_stage.is_not(None), StageChange.from_stage != StageChange.to_stage))
    assert counts["lead.status"] == sum("status" in lead for lead in LEADS)
    anonymous = db.session.scalar(sa.select(sa.func.count()).where(
        AuditEntry.actor_id.is_(None), AuditEntry.action != "user.create"))
    assert anonymous == 0


def test_seed_demo_uses_an_organisation_the_team_entered_already(app):
    jenoptik = organisation_services.create_organisation(
        {"name": "JENOPTIK", "kind": "investor"}, actor=None)
    db.session.commit()
    added = services.seed_demo()
    db.session.commit()
    assert added["organisations"] == len(ORGANISATIONS) - 1
    assert organisation_named("Jenoptik Shanghai").parent == jenoptik
    assert contact_with("claudia.neumann@jenoptik.example").current_affiliations[0] \
        .organisation == jenoptik


def test_the_demo_shows_a_likely_duplicate(seeded):
    groups = [[c.email for c in records] for records, _ in contact_groups()]
    assert groups == [["sabine.mueller@gtai.example", "s.mueller@gtai.example"]]
