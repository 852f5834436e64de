"""Erasure (Art. 17 DSGVO): the person's data gone from the record, its activities and the audit
log, the anonymous record kept for the counts, the erasure recorded without the data."""

import json

import pytest
import sqlalchemy as sa

from crm.activities.models import Activity
from crm.audit.models import AuditEntry
from crm.contacts import services as contact_services
from crm.contacts.models import Contact
from crm.core.services import ValidationError
from crm.events import services as event_services
from crm.events.models import Attendance
from crm.extensions import db
from crm.privacy import services
from tests.factories import (
    make_activity,
    make_contact,
    make_event,
    make_lead,
    make_organisation,
    make_user,
)

PERSONAL = ("민정", "김", "Kim Min-jung", "mj.kim@example.kr", "+82221234567", "Visitenkarte",
            "Head of Investment", "VIP", "Flächenbedarf")


@pytest.fixture
def person(app):
    lea = make_user(name="Lea Lang")
    contact = make_contact(actor=lea, first_name="민정", last_name="김",
                           latin_name="Kim Min-jung", email="mj.kim@example.kr",
                           phone="+82 2 2123 4567", position="Head of Investment", tags=["VIP"],
                           source="Visitenkarte", organisation=make_organisation(),
                           marketing_consent=True)
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
    assert (erased.do_not_contact, erased.marketing_consent) == (True, False)
    assert erased.affiliations == [] and erased.tags == []
    assert erased.deleted_at is None, "kept for the counts"
    assert db.session.scalar(sa.select(Attendance.status).where(
        Attendance.contact_id == contact.id)) == "met"
    assert [c.id for c in db.session.get(type(lead), lead.id).contacts] == [contact.id]
    (activity,) = db.session.scalars(sa.select(Activity).where(Activity.contact_id == contact.id))
    assert activity.body == "" and activity.due_on is not None
    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "contact.erase")).one()
    assert (entry.actor_id, entry.record_id, entry.changes) == (admin.id, contact.id, None)
    attendee_entries = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action.like("event.attendee%")).order_by(AuditEntry.id)).all()
    assert [e.changes["attendee"] for e in attendee_entries] == [
        [None, "Gelöschte Person (invited)"], ["Gelöschte Person (invited)", "Gelöschte Person (met)"]]


def test_erasure_leaves_other_people_alone(person):
    contact, event, _lead, lea = person
    other = make_contact(actor=lea, first_name="Jürgen", last_name="Weiß",
                         email="jw@example.de")
    event_services.set_attendance(event, other, "met", actor=lea)
    make_activity(actor=lea, subject=other, body="Gespräch mit Herrn Weiß")
    db.session.commit()
    services.erase_contact(contact, actor=make_user(role="admin"), confirmed=True)
    db.session.commit()
    db.session.expire_all()
    kept = db.session.get(Contact, other.id)
    assert (kept.display_name, kept.email) == ("Jürgen Weiß", "jw@example.de")
    stored = everything_stored_about(other.id)
    assert "Gespräch mit Herrn Weiß" in stored and "Jürgen Weiß (met)" in stored


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
    contact, *_ = person
    services.erase_contact(contact, actor=make_user(role="admin"), confirmed=True)
    db.session.commit()
    with pytest.raises(ValidationError):
        contact_services.update_contact(contact, {"email": "neu@example.kr"}, actor=None)
    db.session.rollback()
    assert db.session.get(Contact, contact.id).email is None
