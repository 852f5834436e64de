"""Read-only questions about events: lists, typeahead, attendees, events of a record."""

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload

from crm.contacts.models import Affiliation, Contact
from crm.core.fulltext import matching_words
from crm.core.lists import ordered
from crm.core.sql import shifted_day
from crm.events.models import Attendance, AttendanceStatus, Event, event_partners

# Who counts as met at an event: in person, or as an attendee of it.
MET = (AttendanceStatus.MET.value, AttendanceStatus.ATTENDED.value)

SORTS = {
    "starts_on": [Event.starts_on],
    "name": [Event.name_sort],
    "kind": [Event.kind, Event.starts_on],
    "country": [Event.country, Event.starts_on],
}


def event_list(*, q=None, kind=None, country=None, trip_id=None, year=None, sort="starts_on",
               descending=True, deleted=False):
    """The events matching the filters, with their trips, in one select."""
    query = sa.select(Event).options(joinedload(Event.parent))
    query = query.where(Event.deleted_at.isnot(None) if deleted else Event.deleted_at.is_(None))
    if q:
        query = query.where(*matching_words(Event.search_text, q))
    if kind:
        query = query.where(Event.kind == kind)
    if country:
        query = query.where(Event.country == country)
    if trip_id:
        query = query.where(sa.or_(Event.parent_id == trip_id, Event.id == trip_id))
    if year:
        query = query.where(Event.starts_on.between(date(year, 1, 1), date(year, 12, 31)))
    return query.order_by(*ordered(SORTS[sort], descending), Event.id.desc())


def attendee_counts(event_ids):
    """{event id: number of people recorded} for the events of a page, in one query."""
    return (sa.select(Attendance.event_id, sa.func.count(Attendance.id))
            .join(Contact, Contact.id == Attendance.contact_id)
            .where(Attendance.event_id.in_(event_ids), Contact.deleted_at.is_(None))
            .group_by(Attendance.event_id))


def recent_events(limit=100):
    """The newest events and trips, for choosing one without searching."""
    return (sa.select(Event).where(Event.deleted_at.is_(None))
            .order_by(Event.starts_on.desc(), Event.id.desc()).limit(limit))


def trips():
    return (sa.select(Event).where(Event.kind == "trip", Event.deleted_at.is_(None))
            .order_by(Event.starts_on.desc()))


def typeahead(q, *, trips_only=False, limit=10):
    query = sa.select(Event).where(Event.deleted_at.is_(None),
                                   *matching_words(Event.search_text, q))
    if trips_only:
        query = query.where(Event.kind == "trip")
    return query.order_by(Event.starts_on.desc(), Event.id.desc()).limit(limit)


def attendees(event):
    """The event's attendees with their contacts and current organisations."""
    return (sa.select(Attendance)
            .join(Contact, Contact.id == Attendance.contact_id)
            .where(Attendance.event_id == event.id, Contact.deleted_at.is_(None))
            .options(contains_eager(Attendance.contact).selectinload(Contact.affiliations)
                     .joinedload(Affiliation.organisation))
            .order_by(Contact.name_sort, Contact.id))


def is_new_contact():
    """Whether an attendance's contact was new then: recorded on or after the event's first day
    (from 22:00 UTC before it, the earliest midnight in Europe)."""
    return Contact.created_at >= shifted_day(Event.starts_on, -2)


def met_at(event_id, *, new=False, met_by=None):
    """The ids of the contacts met at an event or at the events of a trip, each once; with `new`
    only those it brought into the address book, with `met_by` only those one person met."""
    query = (sa.select(Attendance.contact_id)
             .join(Event, Event.id == Attendance.event_id)
             .join(Contact, Contact.id == Attendance.contact_id)
             .where(Attendance.status.in_(MET), Event.deleted_at.is_(None),
                    sa.or_(Event.id == event_id, Event.parent_id == event_id)))
    if new:
        query = query.where(is_new_contact())
    if met_by:
        query = query.where(Attendance.created_by_id == met_by)
    return query


def sub_events(event):
    return (sa.select(Event).where(Event.parent_id == event.id, Event.deleted_at.is_(None))
            .order_by(Event.starts_on, Event.id))


def events_of_contact(contact_id):
    """(event, attendance status) of a contact, newest first."""
    return (sa.select(Event, Attendance.status)
            .join(Attendance, Attendance.event_id == Event.id)
            .where(Attendance.contact_id == contact_id, Event.deleted_at.is_(None))
            .order_by(Event.starts_on.desc(), Event.id.desc()))


def events_of_organisation(organisation_id):
    """(event, whether it was a partner) for events the organisation co-organised or its
    people attended, newest first."""
    as_partner = sa.select(event_partners.c.event_id).where(
        event_partners.c.organisation_id == organisation_id)
    through_people = (sa.select(Attendance.event_id)
                      .join(Affiliation, Affiliation.contact_id == Attendance.contact_id)
                      .where(Affiliation.organisation_id == organisation_id))
    return (sa.select(Event, Event.id.in_(as_partner).label("is_partner"))
            .where(Event.deleted_at.is_(None),
                   sa.or_(Event.id.in_(as_partner), Event.id.in_(through_people)))
            .order_by(Event.starts_on.desc(), Event.id.desc()))
