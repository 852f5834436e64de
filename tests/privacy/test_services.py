"""Erasure (Art. 17 DSGVO): the person's data gone from the record, its activities and the audit
log, the anonymous record kept for the counts, the erasure recorded without the data."""

import json
from datetime import date

import pytest
import sqlalchemy as sa

from crm.activities import services as activity_services
from crm.activities.models import Activity
from crm.audit.models import AuditEntry
from crm.contacts import services as contact_services
from crm.contacts.models import Contact
from crm.core.services import ValidationError
from crm.events import services as event_services
from crm.events.models import Attendance
from crm.extensions import db
from crm.leads.models import lead_contacts
from crm.privacy import services
from crm.privacy.models import DataRequest
from tests.factories import (
    make_activity,
    make_contact,
    make_event,
    make_lead,
    make_organisation,
    make_user,
)

PERSONAL = ("민정", "김", "Kim Min-jung", "mj.kim@example.kr", "+82221234567", "+821098765432",
            "Dr.", "Visitenkarte", "Head of Investment", "VIP", "Flächenbedarf", "2025-05-21")
# The columns of a contact that erasure keeps: keys, counts, marks, times and the owner.
KEPT_COLUMNS = {"id", "owner_id", "legal_basis", "do_not_contact", "erased_at", "name_sort",
                "search_text", "name_key", "retention_reviewed_on", "created_at", "updated_at",
                "created_by_id", "deleted_at", "version"}


@pytest.fixture
def person(app):
    lea = make_user(name="Lea Lang")
    contact = make_contact(actor=lea, first_name="민정", last_name="김",
                           latin_name="Kim Min-jung", email="mj.kim@example.kr",
                           phone="+82 2 2123 4567", mobile="+82 10 9876 5432",
                           academic_title="Dr.", position="Head of Investment", tags=["VIP"],
                           source="Visitenkarte", organisation=make_organisation(),
                           marketing_consent=True, informed_on="2025-05-21", language="ko")
    services.create_request({"kind": "erasure", "requester": "per E-Mail", "received_on":
                             "2026-11-30", "contact_id": contact.id}, actor=lea,
                            today=date(2026, 12, 1))
    event = make_event(name="Business Breakfast Seoul")
    event_services.set_attendance(event, contact, "invited", actor=lea)
    event_services.set_attendance(event, contact, "met", actor=lea)
    make_activity(actor=lea, subject=contact, body="Flächenbedarf 5 ha", due_on="2030-01-10")
    lead = make_lead(actor=lea, title="Sensorwerk", contact_ids=[contact.id])
    db.session.commit()
    return contact, event, lead, lea


def everything_stored_about(contact_id):
    """The contact row, its activities and every audit entry, as one text."""
    contact = db.session.get(Contact, contact_id)
    rows = [{c.key: str(getattr(contact, c.key)) for c in Contact.__table__.columns}]
    rows += [a.body for a in db.session.scalars(sa.select(Activity))]
    rows += [[e.record_label, e.changes] for e in db.session.scalars(sa.select(AuditEntry))]
    rows += [[r.requester, r.note] for r in db.session.scalars(sa.select(DataRequest))]
    return json.dumps(rows, ensure_ascii=False, default=str)


def test_erasure_removes_the_persons_data_everywhere_and_keeps_the_counts(person):
    contact, _event, lead, _lea = person
    admin = make_user(role="admin")
    stored = everything_stored_about(contact.id)
    assert [text for text in PERSONAL if text not in stored] == []

    services.erase_contact(contact, actor=admin, confirmed=True)
    db.session.commit()
    db.session.expire_all()

    stored = everything_stored_about(contact.id)
    left = [text for text in PERSONAL if text in stored]
    assert left == []
    erased = db.session.get(Contact, contact.id)
    assert erased.display_name == "Gelöschte Person" and erased.search_text == ""
    assert erased.name_key == ""  # no longer found among likely duplicates
    assert (erased.do_not_contact, erased.marketing_consent) == (True, False)
    assert erased.affiliations == [] and erased.tags == []
    assert erased.deleted_at is None, "kept for the counts"
    assert db.session.scalar(sa.select(Attendance.status).where(
        Attendance.contact_id == contact.id)) == "met"
    assert [c.id for c in db.session.get(type(lead), lead.id).contacts] == [contact.id]
    (activity,) = db.session.scalars(sa.select(Activity).where(Activity.contact_id == contact.id))
    assert activity.body == "" and activity.due_on is not None
    assert activity.done_at is not None, "an open follow-up on the person is closed"
    request = db.session.scalars(sa.select(DataRequest)).one()
    assert (request.requester, request.contact_id) == ("per E-Mail", None)
    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "contact.erase")).one()
    assert (entry.actor_id, entry.record_id, entry.changes) == (admin.id, contact.id, None)
    attendee_entries = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action.like("event.attendee%")).order_by(AuditEntry.id)).all()
    assert [e.changes["attendee"] for e in attendee_entries] == [
        [None, "Gelöschte Person (invited)"], ["Gelöschte Person (invited)", "Gelöschte Person (met)"]]


def test_erasure_finds_the_person_in_events_they_left_and_spares_namesakes(person):
    """Attendee entries carry the person's id: an event the person was taken off before the
    erasure loses their name too, while another person of the same name keeps theirs."""
    contact, _event, _lead, lea = person
    left = make_event(name="Investorenseminar Boston")
    event_services.set_attendance(left, contact, "invited", actor=lea)
    event_services.remove_attendance(left, contact, actor=lea)
    namesake = make_contact(first_name="민정", last_name="김", latin_name="Kim Min-jung")
    event_services.set_attendance(left, namesake, "met", actor=lea)
    db.session.commit()
    services.erase_contact(contact, actor=make_user(role="admin"), confirmed=True)
    db.session.commit()
    db.session.expire_all()
    entries = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action.like("event.attendee%"), AuditEntry.record_id == left.id)
        .order_by(AuditEntry.id)).all()
    assert [e.changes["attendee"] for e in entries] == [
        [None, "Gelöschte Person (invited)"], ["Gelöschte Person (invited)", None],
        [None, f"{namesake} (met)"]]
    assert [e.labelled_changes() for e in entries][-1] == [
        ("Teilnehmer", None, f"{namesake} (met)")]


def test_every_personal_field_of_a_contact_is_erased():
    """A column added to contacts must be erased, or be named here as one that is kept."""
    columns = {column.key for column in Contact.__table__.columns}
    assert columns - KEPT_COLUMNS == set(services.ERASED_FIELDS)


def test_erasure_leaves_other_people_alone(person):
    contact, event, _lead, lea = person
    other = make_contact(actor=lea, first_name="Jürgen", last_name="Weiß",
                         email="jw@example.de")
    event_services.set_attendance(event, other, "met", actor=lea)
    namesake = make_contact(actor=lea, first_name="민정", last_name="김")
    event_services.set_attendance(make_event(name="Seminar Busan"), namesake, "met", actor=lea)
    make_activity(actor=lea, subject=other, body="Gespräch mit Herrn Weiß")
    db.session.commit()
    services.erase_contact(contact, actor=make_user(role="admin"), confirmed=True)
    db.session.commit()
    db.session.expire_all()
    kept = db.session.get(Contact, other.id)
    assert (kept.display_name, kept.email) == ("Jürgen Weiß", "jw@example.de")
    stored = everything_stored_about(other.id)
    assert "Gespräch mit Herrn Weiß" in stored and "Jürgen Weiß (met)" in stored
    assert "김민정 (met)" in stored, "a namesake at another event keeps their history"
    assert db.session.get(Contact, namesake.id).display_name == "김민정"


def test_erasure_needs_confirmation_and_happens_once(person):
    contact, *_ = person
    admin = make_user(role="admin")
    with pytest.raises(ValidationError) as raised:
        services.erase_contact(contact, actor=admin)
    assert "confirm" in raised.value.fields
    db.session.rollback()
    assert db.session.get(Contact, contact.id).email == "mj.kim@example.kr"
    services.erase_contact(contact, actor=admin, confirmed=True)
    db.session.commit()
    with pytest.raises(ValidationError):
        services.erase_contact(contact, actor=admin, confirmed=True)


def test_an_erased_person_cannot_be_filled_in_again(person):
    contact, event, lead, lea = person
    services.erase_contact(contact, actor=make_user(role="admin"), confirmed=True)
    db.session.commit()
    attempts = [
        lambda: contact_services.update_contact(contact, {"email": "neu@example.kr"},
                                                actor=None),
        lambda: activity_services.create_activity(body="Neue Notiz", actor=lea, contact=contact),
        lambda: event_services.set_attendance(make_event(), contact, "met", actor=lea),
        lambda: event_services.set_attendance(event, contact, "attended", actor=lea),
        lambda: make_lead(actor=lea, title="Neues Projekt", contact_ids=[contact.id]),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError):
            attempt()
        db.session.rollback()
    assert db.session.get(Contact, contact.id).email is None
    assert db.session.scalar(sa.select(sa.func.count(Activity.id)).where(
        Activity.contact_id == contact.id)) == 1
    assert db.session.scalars(sa.select(lead_contacts.c.lead_id).where(
        lead_contacts.c.contact_id == contact.id)).all() == [lead.id]


@pytest.mark.parametrize(("received", "due"), [
    ("2026-01-15", "2026-02-15"), ("2026-01-31", "2026-02-28"), ("2028-01-31", "2028-02-29"),
    ("2026-12-20", "2027-01-20"), ("31.03.2026", "2026-04-30"),
])
def test_a_request_is_due_one_month_after_it_came_in(app, received, due):
    request = services.create_request({"kind": "access", "requester": "Kim Soo-ah",
                                       "received_on": received}, actor=None,
                                      today=date(2030, 1, 1))
    assert request.due_on.isoformat() == due


@pytest.mark.parametrize(("data", "field"), [
    ({"kind": "wish"}, "kind"), ({"kind": ""}, "kind"), ({"requester": ""}, "requester"),
    ({"requester": "x" * 201}, "requester"), ({"received_on": ""}, "received_on"),
    ({"received_on": "2018-05-24"}, "received_on"), ({"received_on": "2026-12-24"}, "received_on"),
    ({"received_on": "31.02.2026"}, "received_on"), ({"contact_id": "999999"}, "contact_id"),
    ({"contact_id": "Kim"}, "contact_id"), ({"note": "x" * 20_001}, "note"),
])
def test_a_request_that_cannot_be_registered_names_the_field(app, data, field):
    with pytest.raises(ValidationError) as raised:
        services.create_request({"kind": "erasure", "requester": "Kim Soo-ah",
                                 "received_on": "2026-11-30", **data}, actor=None,
                                today=date(2026, 12, 1))
    assert field in raised.value.fields
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(DataRequest.id))) == 0


def test_answering_a_request_records_who_and_when_once(app):
    admin = make_user(role="admin")
    request = services.create_request({"kind": "objection", "requester": "Jürgen Weiß",
                                       "received_on": "2026-11-02"}, actor=admin,
                                      today=date(2026, 11, 3))
    services.close_request(request, actor=admin, today=date(2026, 11, 20))
    services.close_request(request, actor=make_user(role="admin"), today=date(2026, 11, 25))
    db.session.commit()
    assert (request.done_on, request.done_by_id) == (date(2026, 11, 20), admin.id)
    actions = db.session.scalars(sa.select(AuditEntry.action).where(
        AuditEntry.record_type == "data_requests")).all()
    assert actions == ["data_request.create", "data_request.done"]


@pytest.mark.parametrize(("today", "years", "cutoff"), [
    (date(2026, 12, 3), 3, "2023-12-03T00:00:00+01:00"),
    (date(2028, 2, 29), 3, "2025-02-28T00:00:00+01:00"),
    (date(2026, 7, 1), 1, "2025-07-01T00:00:00+02:00"),
])
def test_the_retention_cutoff_is_the_start_of_that_day_years_ago_in_germany(app, today, years,
                                                                            cutoff):
    assert services.retention_cutoff(today, years).isoformat() == cutoff
