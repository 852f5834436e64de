"""Events and trips: the rules for dates, trips, partners, team members and attendees."""

import sqlalchemy as sa
from flask_babel import format_date
from flask_babel import lazy_gettext as _l

from crm.activities import services as activity_services
from crm.audit.services import diff, record, record_many
from crm.auth.models import User
from crm.contacts import services as contact_services
from crm.contacts.models import Contact
from crm.core.models import utcnow
from crm.core.routing import parse_id
from crm.core.services import (
    NotFoundError,
    ValidationError,
    check_fields,
    check_version,
    restore,
    soft_delete,
    touch,
)
from crm.core.sql import insert_many
from crm.core.validation import LONG_TEXT_MAX, Checker
from crm.events.models import COST_MAX_EUR, Attendance, AttendanceStatus, Event, EventKind
from crm.extensions import db
from crm.organisations import services as organisation_services
from crm.organisations.models import Organisation

FIELDS = ("name", "kind", "starts_on", "ends_on", "city", "country", "description", "parent_id",
          "cost_eur", "partner_ids", "team_member_ids", "attendees")
SIMPLE_FIELDS = FIELDS[:9]


def get_event(event_id, *, include_deleted=False):
    event = db.session.get(Event, event_id)
    if event is None or (event.is_deleted and not include_deleted):
        raise NotFoundError(_l("There is no such event."))
    return event


def snapshot(event):
    """The event's fields as the API and the audit log see them."""
    values = {field: getattr(event, field) for field in SIMPLE_FIELDS}
    values["partner_ids"] = sorted(o.id for o in event.partners)
    values["team_member_ids"] = sorted(u.id for u in event.team_members)
    values["attendees"] = sorted(({"contact_id": a.contact_id, "status": a.status}
                                  for a in event.attendances), key=lambda a: a["contact_id"])
    return values


def create_event(data, *, actor):
    check_fields(data, FIELDS)
    clean = _clean({**dict.fromkeys(FIELDS), **data}, event=None)
    event = Event(created_by_id=getattr(actor, "id", None))
    _apply(event, clean, actor=actor)
    db.session.add(event)
    db.session.flush()
    record("event.create", actor=actor, record=event, changes=diff({}, snapshot(event)))
    return event


def update_event(event, data, *, actor, expected_version=None):
    """Change the fields given in `data`; lists given (partners, team, attendees) replace."""
    check_version(event, expected_version)
    check_fields(data, FIELDS)
    before = snapshot(event)
    clean = _clean({**before, **data}, event=event)
    _apply(event, clean, actor=actor)
    changes = diff(before, snapshot(event))
    if changes:
        touch(event)
        db.session.flush()
        record("event.update", actor=actor, record=event, changes=changes)
    return event


def delete_event(event, *, actor):
    if not event.is_deleted:
        soft_delete(event)
        record("event.delete", actor=actor, record=event)
    return event


def restore_event(event, *, actor):
    if event.is_deleted:
        restore(event)
        record("event.restore", actor=actor, record=event)
    return event


def set_attendance(event, contact, status, *, actor):
    """Record `contact` at `event` with `status` (a new attendee, or a changed status)."""
    if contact.erased_at is not None:
        raise ValidationError(_l("This person's data has been erased; nothing can be added."))
    check = Checker({"status": status})
    status = check.choice("status", AttendanceStatus, required=True)
    check.done()
    attendance = db.session.scalar(sa.select(Attendance).where(
        Attendance.event_id == event.id, Attendance.contact_id == contact.id))
    if attendance is None:
        attendance = Attendance(event=event, contact=contact, status=status,
                                created_by_id=getattr(actor, "id", None))
        db.session.add(attendance)
        record("event.attendee_add", actor=actor, record=event,
               changes={"attendee": (None, f"{contact} ({status})"),
                        "attendee_id": (None, contact.id)})
    elif attendance.status != status:
        record("event.attendee_update", actor=actor, record=event,
               changes={"attendee": (f"{contact} ({attendance.status})", f"{contact} ({status})"),
                        "attendee_id": (contact.id, contact.id)})
        attendance.status = status
    touch(event)  # an API client holding the old attendee list must not overwrite this one
    db.session.flush()
    return attendance


def add_new_attendees(event, people, status, *, actor):
    """Record many people at `event` who are not recorded there yet (people an import has
    just created: `(contact id, name)` pairs), with one check of the status and one change of
    the event."""
    check = Checker({"status": status})
    status = check.choice("status", AttendanceStatus, required=True)
    check.done()
    if not people:
        return
    now = utcnow()
    insert_many(Attendance.__table__, [
        {"event_id": event.id, "contact_id": contact_id, "status": status, "created_at": now,
         "updated_at": now, "created_by_id": getattr(actor, "id", None)}
        for contact_id, _ in people])
    record_many("event.attendee_add", actor=actor, record_type=event.__tablename__, items=[
        (event.id, str(event), {"attendee": (None, f"{name} ({status})"),
                                "attendee_id": (None, contact_id)})
        for contact_id, name in people])
    touch(event)


def remove_attendance(event, contact, *, actor):
    attendance = db.session.scalar(sa.select(Attendance).where(
        Attendance.event_id == event.id, Attendance.contact_id == contact.id))
    if attendance is not None:
        db.session.delete(attendance)
        record("event.attendee_remove", actor=actor, record=event,
               changes={"attendee": (f"{contact} ({attendance.status})", None),
                        "attendee_id": (contact.id, None)})
        touch(event)
        db.session.flush()


def add_attendee(event, contact_reference, status, *, actor):
    """Record an existing contact at `event`: `contact_reference` is an id from the picker, or
    an email address typed without JavaScript."""
    text = str(contact_reference if contact_reference is not None else "").strip()
    contact_id = parse_id(text)
    if contact_id is not None:
        contact = db.session.get(Contact, contact_id)
    else:
        found = contact_services.find_duplicates(text, limit=2) if "@" in text else []
        contact = found[0] if len(found) == 1 else None
    if contact is None or contact.is_deleted:
        message = _l("Choose a person.")
        raise ValidationError(message, fields={"contact": [message]})
    return set_attendance(event, contact, status, actor=actor)


CAPTURE_FIELDS = ("first_name", "last_name", "latin_name", "email", "phone", "mobile",
                  "position", "organisation", "note")


def capture_person(event, data, *, actor, source=None, allow_duplicate=False,
                   existing_contact_id=None):
    """"A person met here": the contact, their organisation (picked, or new with the event's
    country), the attendance as met in person, and an optional first note, in one step.

    Everything is checked before anything is written. A new contact whose email exists raises
    DuplicateError unless `allow_duplicate`; with `existing_contact_id` that known person is
    recorded instead (their organisation added if new to them). Returns the contact.
    """
    check_fields(data, CAPTURE_FIELDS)
    check = Checker(data)
    note = check.text("note", max_length=LONG_TEXT_MAX, multiline=True)
    check.done()
    reference = data.get("organisation")
    contact_fields = {k: data.get(k) for k in CAPTURE_FIELDS if k not in ("organisation", "note")}
    if existing_contact_id is not None:
        contact = db.session.get(Contact, existing_contact_id)
        if contact is None or contact.is_deleted:
            raise ValidationError(_l("There is no such contact."))
    else:
        contact_fields["source"] = (source or event.name)[:300]
        contact_services.validate_contact(contact_fields, allow_duplicate=allow_duplicate)
    organisation = None
    if reference not in (None, ""):
        organisation, _created = organisation_services.organisation_from_reference(
            reference, actor=actor, defaults={"country": event.country})
    if existing_contact_id is None:
        if organisation is not None:
            contact_fields["affiliations"] = [{"organisation_id": organisation.id,
                                               "role": contact_fields.get("position"),
                                               "is_current": True}]
        contact = contact_services.create_contact(contact_fields, actor=actor,
                                                  allow_duplicate=True)
    elif organisation is not None and organisation.id not in {
            a.organisation_id for a in contact.affiliations}:
        contact_services.add_affiliation(contact, organisation=organisation,
                                         role=data.get("position") or None, actor=actor)
    set_attendance(event, contact, AttendanceStatus.MET.value, actor=actor)
    if note:
        activity_services.create_activity(body=note, actor=actor, contact=contact, event=event,
                                          organisation=organisation)
    return contact


def _clean(data, *, event):
    check = Checker(data)
    clean = {
        "name": check.text("name", max_length=300, required=True),
        "kind": check.choice("kind", EventKind, required=True),
        "starts_on": check.day("starts_on", required=True),
        "ends_on": check.day("ends_on"),
        "city": check.text("city", max_length=200),
        "country": check.country("country"),
        "description": check.text("description", max_length=LONG_TEXT_MAX, multiline=True),
        "parent_id": check.record_id("parent_id"),
        "cost_eur": check.amount("cost_eur", units=True, maximum=COST_MAX_EUR),
        "partner_ids": check.record_ids("partner_ids"),
        "team_member_ids": check.record_ids("team_member_ids"),
        "attendees": _clean_attendees(check),
    }
    if clean["starts_on"] and not clean["ends_on"]:
        clean["ends_on"] = clean["starts_on"]
    if clean["starts_on"] and clean["ends_on"] and clean["ends_on"] < clean["starts_on"]:
        check.fail("ends_on", _l("The event cannot end before it starts."))
    _check_trip(check, clean, event)
    # Only what is added is checked: a partner deleted or a colleague deactivated since must
    # not block every later edit of the event.
    before = snapshot(event) if event is not None else {}
    _check_exist(check, "partner_ids", Organisation,
                 set(clean["partner_ids"]) - set(before.get("partner_ids", [])),
                 _l("Choose existing organisations."))
    _check_exist(check, "team_member_ids", User,
                 set(clean["team_member_ids"]) - set(before.get("team_member_ids", [])),
                 _l("Choose team members of the agency."))
    _check_exist(check, "attendees", Contact,
                 {a["contact_id"] for a in clean["attendees"]}
                 - {a["contact_id"] for a in before.get("attendees", [])},
                 _l("Choose existing contacts."))
    check.done()
    return clean


def _check_trip(check, clean, event):
    """A trip holds events within its dates; a trip lies in no other trip, nor in itself."""
    parent_id, kind = clean["parent_id"], clean["kind"]
    if parent_id is not None and "parent_id" not in check.errors:
        parent = db.session.get(Event, parent_id)
        if event is not None and parent_id == event.id:
            check.fail("parent_id", _l("An event cannot be part of itself."))
        elif kind == EventKind.TRIP.value:
            check.fail("parent_id", _l("A delegation trip cannot be part of another trip."))
        elif parent is None or not parent.is_trip or (
                parent.is_deleted and parent_id != getattr(event, "parent_id", None)):
            check.fail("parent_id", _l("Choose a delegation trip."))
        elif clean["starts_on"] and clean["ends_on"] and (
                clean["starts_on"] < parent.starts_on or clean["ends_on"] > parent.ends_on):
            check.fail("starts_on", _l("The event must lie within its trip (%(start)s – %(end)s).",
                                       start=format_date(parent.starts_on),
                                       end=format_date(parent.ends_on)))
    if event is not None and event.id is not None:
        children = db.session.scalars(sa.select(Event).where(
            Event.parent_id == event.id, Event.deleted_at.is_(None))).all()
        if children and kind != EventKind.TRIP.value:
            check.fail("kind", _l("This trip contains events; it must stay a delegation trip."))
        outside = [c for c in children if clean["starts_on"] and clean["ends_on"] and (
            c.starts_on < clean["starts_on"] or c.ends_on > clean["ends_on"])]
        if outside:
            check.fail("starts_on", _l("Events of this trip would lie outside it: %(names)s.",
                                       names=", ".join(c.name for c in outside[:5])))


def _check_exist(check, field, model, ids, message):
    if not ids or field in check.errors:
        return
    query = sa.select(sa.func.count(model.id)).where(model.id.in_(ids))
    if hasattr(model, "deleted_at"):
        query = query.where(model.deleted_at.is_(None))
    if model is User:
        query = query.where(User.is_active.is_(True))
    if db.session.scalar(query) != len(ids):
        check.fail(field, message)


def _clean_attendees(check):
    value = check.data.get("attendees")
    if value in (None, ""):
        return []
    if not isinstance(value, list) or any(not isinstance(item, dict) for item in value):
        check.fail("attendees", _l("Give a list of attendees."))
        return []
    clean = {}
    for item in value:
        inner = Checker(item)
        contact_id = inner.record_id("contact_id", required=True)
        status = inner.choice("status", AttendanceStatus, default=AttendanceStatus.INVITED.value)
        if inner.errors or set(item) - {"contact_id", "status"}:
            check.fail("attendees", _l("Each attendee needs a contact_id and may have a status "
                                       "(invited, registered, attended, met)."))
            return []
        clean[contact_id] = {"contact_id": contact_id, "status": status}
    return list(clean.values())


def _apply(event, clean, *, actor):
    for field in SIMPLE_FIELDS:
        setattr(event, field, clean[field])
    if sorted(o.id for o in event.partners) != sorted(clean["partner_ids"]):
        event.partners = list(db.session.scalars(
            sa.select(Organisation).where(Organisation.id.in_(clean["partner_ids"]))))
    if sorted(u.id for u in event.team_members) != sorted(clean["team_member_ids"]):
        event.team_members = list(db.session.scalars(
            sa.select(User).where(User.id.in_(clean["team_member_ids"]))))
    wanted = {a["contact_id"]: a["status"] for a in clean["attendees"]}
    for attendance in list(event.attendances):
        if attendance.contact_id not in wanted:
            event.attendances.remove(attendance)
    have = {a.contact_id: a for a in event.attendances}
    for contact_id, status in wanted.items():
        if contact_id in have:
            have[contact_id].status = status
        else:
            event.attendances.append(Attendance(contact_id=contact_id, status=status,
                                                created_by_id=getattr(actor, "id", None)))
    event.derive_keys()
