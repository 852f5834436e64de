from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from crm.activities import queries, services
from crm.activities.models import Activity
from crm.core.services import ValidationError
from crm.extensions import db
from crm.leads import services as lead_services
from tests.factories import (
    PROSPECT_FIELDS,
    make_contact,
    make_event,
    make_lead,
    make_organisation,
    make_user,
)


def count():
    return db.session.scalar(sa.select(sa.func.count(Activity.id)))


def test_a_note_is_kept_as_written_by_its_author(app):
    author = make_user()
    contact = make_contact()
    text = "Angerufen.\nSiehe https://example.org/x?a=1&b=2.\n<script>alert(1)</script>"
    note = services.create_activity(kind="call", body=text, actor=author, contact=contact)
    assert (note.body, note.author_id, note.assignee_id, note.due_on) == (text, author.id, None,
                                                                          None)
    assert abs((note.occurred_at - datetime.now(UTC)).total_seconds()) < 60


def test_a_follow_up_is_for_its_author_unless_said_otherwise(app):
    author, colleague = make_user(), make_user()
    contact = make_contact()
    mine = services.create_activity(body="Nachfassen", actor=author, contact=contact,
                                    due_on="2026-12-01")
    theirs = services.create_activity(body="Bitte anrufen", actor=author, contact=contact,
                                      due_on="01.12.2026", assignee_id=colleague.id)
    assert (mine.assignee_id, theirs.assignee_id) == (author.id, colleague.id)
    assert theirs.due_on == date(2026, 12, 1)


@pytest.mark.parametrize(("data", "field"), [
    ({"body": ""}, "body"), ({"body": "   "}, "body"), ({"body": "x" * 1_000_000}, "body"),
    ({"due_on": "morgen"}, "due_on"), ({"due_on": "2026-02-30"}, "due_on"),
    ({"kind": "telepathy"}, "kind"), ({"occurred_at": "gestern"}, "occurred_at"),
    ({"occurred_at": "2999-01-01T10:00"}, "occurred_at"),
    ({"due_on": "2026-12-01", "assignee_id": 4242}, "assignee_id"),
])
def test_bad_input_names_the_field_and_saves_nothing(app, data, field):
    contact = make_contact()
    with pytest.raises(ValidationError) as raised:
        services.create_activity(**{"body": "Notiz", **data}, actor=make_user(), contact=contact)
    assert field in raised.value.fields
    db.session.rollback()
    assert count() == 0


def test_a_deactivated_colleague_gets_no_follow_up(app):
    make_user(role="admin")
    former = make_user()
    former.is_active = False
    db.session.commit()
    with pytest.raises(ValidationError) as raised:
        services.create_activity(body="x", actor=make_user(), contact=make_contact(),
                                 due_on="2026-12-01", assignee_id=former.id)
    assert "assignee_id" in raised.value.fields


def test_an_activity_needs_a_record(app):
    with pytest.raises(ValidationError):
        services.create_activity(body="x", actor=make_user())


def test_the_time_may_be_given_in_local_time(app):
    note = services.create_activity(body="x", actor=make_user(), contact=make_contact(),
                                    occurred_at="21.11.2025 10:30")
    assert note.occurred_at == datetime(2025, 11, 21, 9, 30, tzinfo=UTC)  # Berlin is UTC+1


def test_done_and_open_again_record_who_and_when(app):
    user = make_user()
    follow_up = services.create_activity(body="x", actor=user, contact=make_contact(),
                                         due_on="2026-12-01")
    services.mark_done(follow_up, actor=user)
    assert follow_up.done_by_id == user.id and follow_up.done_at is not None
    services.mark_open(follow_up, actor=user)
    assert follow_up.done_at is None and follow_up.done_by_id is None
    note = services.create_activity(body="x", actor=user, contact=make_contact())
    with pytest.raises(ValidationError):
        services.mark_done(note, actor=user)


@pytest.mark.parametrize(("start", "days", "due"), [
    (date(2026, 11, 20), 3, date(2026, 11, 25)),  # Friday + 3 working days = Wednesday
    (date(2026, 11, 21), 1, date(2026, 11, 23)),  # Saturday + 1 = Monday
    (date(2026, 11, 23), 5, date(2026, 11, 30)),
])
def test_working_days_skip_weekends(start, days, due):
    assert services.add_working_days(start, days) == due


def test_follow_ups_for_everyone_met_who_heard_nothing_since(app):
    lea, jonas, boss = make_user(name="Lea"), make_user(name="Jonas"), make_user(name="Boss")
    event = make_event(starts_on="2024-09-02", ends_on="2024-09-02")
    from crm.events import services as event_services

    met_by_lea, met_by_jonas, written_to, only_invited = (make_contact() for _ in range(4))
    event_services.set_attendance(event, met_by_lea, "met", actor=lea)
    event_services.set_attendance(event, met_by_jonas, "attended", actor=jonas)
    event_services.set_attendance(event, written_to, "met", actor=lea)
    event_services.set_attendance(event, only_invited, "invited", actor=lea)
    services.create_activity(body="Danke-Mail", kind="email", actor=lea, contact=written_to,
                             occurred_at="2024-09-04T10:00")
    services.create_activity(body="Am Stand", actor=lea, contact=met_by_lea,
                             occurred_at="2024-09-02T10:00")  # during the event: not since
    made = services.follow_up_everyone_met(event, body="Nachfassen", actor=boss,
                                           today=date(2024, 9, 3), working_days=3)
    assert {(a.contact_id, a.assignee_id) for a in made} == {(met_by_lea.id, lea.id),
                                                             (met_by_jonas.id, jonas.id)}
    assert {a.due_on for a in made} == {date(2024, 9, 5)}
    again = services.follow_up_everyone_met(event, body="x", actor=boss, today=date(2026, 1, 1),
                                            working_days=3)
    assert again == []  # everyone has heard from us now


def test_nobody_who_asked_not_to_be_contacted_gets_a_follow_up_after_an_event(app):
    lea, boss = make_user(), make_user()
    event = make_event(starts_on="2024-09-02")
    from crm.events import services as event_services

    willing, objected = make_contact(), make_contact(do_not_contact=True)
    for contact in (willing, objected):
        event_services.set_attendance(event, contact, "met", actor=lea)
    made = services.follow_up_everyone_met(event, body="x", actor=boss, today=date(2026, 11, 23),
                                           working_days=3)
    assert [a.contact_id for a in made] == [willing.id]


def test_follow_ups_can_all_go_to_the_one_who_asks_and_are_not_due_in_the_past(app):
    lea, boss = make_user(), make_user()
    event = make_event(starts_on="2024-09-02")
    from crm.events import services as event_services

    event_services.set_attendance(event, make_contact(), "met", actor=lea)
    made = services.follow_up_everyone_met(event, body="x", actor=boss, today=date(2026, 11, 23),
                                           working_days=3, assign_to_actor=True)
    assert [(a.assignee_id, a.due_on) for a in made] == [(boss.id, date(2026, 11, 23))]


def test_a_timeline_mixes_activities_stage_changes_and_attendances_newest_first(app):
    user = make_user(role="manager")
    organisation = make_organisation(name="Kia")
    person = make_contact(organisation=organisation)
    event = make_event(name="Breakfast", starts_on="2024-09-03",
                       attendees=[{"contact_id": person.id, "status": "met"}])
    lead = make_lead(actor=user, organisation=organisation, **PROSPECT_FIELDS)
    lead_services.change_stage(lead, "prospect", actor=user)
    services.create_activity(body="Über die Person", actor=user, contact=person,
                             occurred_at="2025-01-01T10:00")
    services.create_activity(body="Über den Lead", actor=user, lead=lead,
                             occurred_at="2025-02-01T10:00")
    db.session.commit()
    entries, more = queries.timeline(user, organisation_id=organisation.id)
    kinds = [(e.kind, getattr(e.item, "body", None)) for e in entries]
    assert kinds[-3:] == [("activity", "Über den Lead"), ("activity", "Über die Person"),
                          ("attendance", None)]
    assert [e.kind for e in entries[:2]] == ["stage", "stage"]
    assert more is None
    assert event


def test_timeline_pages_have_no_gaps_and_no_repeats(app):
    user = make_user()
    contact = make_contact()
    start = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
    for n in range(70):
        services.create_activity(body=f"Notiz {n}", actor=user, contact=contact,
                                 occurred_at=start + timedelta(hours=n))
    db.session.commit()
    seen, before = [], None
    while True:
        entries, before = queries.timeline(user, contact_id=contact.id, before=before, limit=30)
        seen += [e.item.body for e in entries]
        if before is None:
            break
    assert seen == [f"Notiz {n}" for n in reversed(range(70))]


def test_notes_on_a_confidential_lead_stay_with_those_who_may_see_it(app):
    owner, other = make_user(), make_user()
    organisation = make_organisation()
    lead = make_lead(actor=owner, organisation=organisation, is_confidential=True)
    services.create_activity(body="Geheim", actor=owner, lead=lead, organisation=organisation)
    db.session.commit()
    for user, expected in ((owner, ["Geheim"]), (other, [])):
        entries, _ = queries.timeline(user, organisation_id=organisation.id)
        assert [e.item.body for e in entries if e.kind == "activity"] == expected


def test_a_lead_knows_when_its_last_activity_happened(app):
    """`last_activity_at` follows the lead's activities as they are added (never moving back),
    moved in time and deleted, and leaves the lead's version and last change alone (no edit conflict)."""
    author = make_user()
    lead = make_lead(actor=author)
    version, updated_at = lead.version, lead.updated_at
    assert lead.last_activity_at is None

    def last():
        db.session.expire_all()
        return db.session.get(type(lead), lead.id).last_activity_at

    older = services.create_activity(body="Erstes Gespräch", actor=author, lead=lead,
                                     occurred_at="2025-03-01T10:00")
    newer = services.create_activity(body="Zweites Gespräch", actor=author, lead=lead,
                                     occurred_at="2025-06-01T10:00")
    services.create_activity(body="Nur die Firma", actor=author,
                             organisation=lead.organisation, occurred_at="2025-09-01T10:00")
    db.session.commit()
    assert last() == newer.occurred_at
    late_entry = services.create_activity(body="Nachgetragen", actor=author, lead=lead,
                                          occurred_at="2025-01-15T10:00")
    db.session.commit()
    assert last() == newer.occurred_at, "an activity added later but dated earlier"
    services.delete_activity(late_entry, actor=author)
    db.session.commit()
    assert last() == newer.occurred_at
    services.update_activity(newer, {"occurred_at": "2025-02-01T10:00"}, actor=author)
    db.session.commit()
    assert last() == older.occurred_at
    services.delete_activity(older, actor=author)
    db.session.commit()
    assert last() == newer.occurred_at
    services.delete_activity(newer, actor=author)
    db.session.commit()
    assert last() is None
    fresh = db.session.get(type(lead), lead.id)
    assert (fresh.version, fresh.updated_at) == (version, updated_at)
