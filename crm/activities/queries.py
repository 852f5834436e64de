"""Read-only questions about activities: timelines, follow-ups, what happened recently.

A timeline mixes three kinds of entries, newest first: activities, stage and status changes of
leads, and attendances at events. It is paged with a `before` moment, each source queried once
per page, so a page costs the same whatever the history's length.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload

from crm.activities.models import Activity
from crm.auth.models import User
from crm.contacts.models import Affiliation, Contact
from crm.events.models import Attendance, Event
from crm.extensions import db
from crm.leads.models import Lead, StageChange, lead_contacts
from crm.leads.queries import visible as visible_leads

PAGE_SIZE = 30


@dataclass
class Entry:
    """One line of a timeline."""

    kind: str  # "activity", "stage" or "attendance"
    at: datetime
    item: object


def visible_activities(user):
    """Activities a user may see: not deleted, not about a deleted person, and not on a
    confidential lead kept from them."""
    deleted_contacts = sa.select(Contact.id).where(Contact.deleted_at.isnot(None))
    # The lead is asked about per activity (a correlated EXISTS): a page reads few activities,
    # and an IN list of every visible lead would be built whole for each query.
    its_lead_visible = (sa.select(Lead.id).where(Lead.id == Activity.lead_id, visible_leads(user))
                        .correlate(Activity).exists())
    return sa.and_(Activity.deleted_at.is_(None),
                   sa.or_(Activity.contact_id.is_(None),
                          Activity.contact_id.not_in(deleted_contacts)),
                   sa.or_(Activity.lead_id.is_(None), its_lead_visible))


def _sources(user, *, organisation_id=None, contact_id=None, event_id=None, lead_id=None):
    """The conditions selecting a record's activities, lead changes and attendances."""
    leads = sa.select(Lead.id).where(visible_leads(user))
    if organisation_id is not None:
        people = sa.select(Affiliation.contact_id).where(
            Affiliation.organisation_id == organisation_id)
        its_leads = leads.where(Lead.organisation_id == organisation_id)
        return (sa.or_(Activity.organisation_id == organisation_id,
                       Activity.contact_id.in_(people), Activity.lead_id.in_(its_leads)),
                StageChange.lead_id.in_(its_leads), Attendance.contact_id.in_(people))
    if contact_id is not None:
        its_leads = leads.where(Lead.id.in_(sa.select(lead_contacts.c.lead_id).where(
            lead_contacts.c.contact_id == contact_id)))
        return (Activity.contact_id == contact_id, StageChange.lead_id.in_(its_leads),
                Attendance.contact_id == contact_id)
    if event_id is not None:
        events = sa.select(Event.id).where(sa.or_(Event.id == event_id,
                                                  Event.parent_id == event_id))
        its_leads = leads.where(Lead.source_event_id.in_(events))
        return (Activity.event_id.in_(events), StageChange.lead_id.in_(its_leads),
                Attendance.event_id == event_id)
    return (Activity.lead_id == lead_id, StageChange.lead_id == lead_id, sa.false())


def timeline(user, *, before=None, limit=PAGE_SIZE, **subject):
    """One page of a record's timeline for `user`: `(entries, next_before)`.

    `subject` is one of organisation_id, contact_id, event_id, lead_id. `next_before` is the
    moment to ask for the next page with, or None at the end.
    """
    activity_condition, change_condition, attendance_condition = _sources(user, **subject)
    before = before or datetime.now(UTC) + timedelta(days=2)
    activities = (sa.select(Activity)
                  .where(activity_condition, visible_activities(user),
                         Activity.occurred_at < before)
                  .options(joinedload(Activity.author), joinedload(Activity.contact),
                           joinedload(Activity.event), joinedload(Activity.lead),
                           joinedload(Activity.assignee))
                  .order_by(Activity.occurred_at.desc(), Activity.id.desc()).limit(limit + 1))
    changes = (sa.select(StageChange)
               .where(change_condition, StageChange.changed_at < before)
               .options(joinedload(StageChange.changed_by), joinedload(StageChange.lead))
               .order_by(StageChange.changed_at.desc(), StageChange.id.desc()).limit(limit + 1))
    attendances = (sa.select(Attendance)
                   .join(Event, Event.id == Attendance.event_id)
                   .join(Contact, Contact.id == Attendance.contact_id)
                   .where(attendance_condition, Event.deleted_at.is_(None),
                          Contact.deleted_at.is_(None), Event.starts_on <= before.date())
                   .options(contains_eager(Attendance.event), contains_eager(Attendance.contact))
                   .order_by(Event.starts_on.desc(), Attendance.id.desc()).limit(limit + 1))
    return merge(db.session.scalars(activities).unique().all(),
                 db.session.scalars(changes).all(),
                 db.session.scalars(attendances).all(), before=before, limit=limit)


def attendance_moment(attendance):
    """Where an attendance stands in a timeline: noon of the event's first day."""
    return datetime.combine(attendance.event.starts_on, time(12, 0), tzinfo=UTC)


def merge(activities, changes, attendances, *, before, limit=PAGE_SIZE):
    """The newest `limit` entries of the three lists (each newest first), and the moment to
    continue from (None when nothing is left)."""
    entries = ([Entry("activity", a.occurred_at, a) for a in activities]
               + [Entry("stage", c.changed_at, c) for c in changes]
               + [Entry("attendance", attendance_moment(a), a) for a in attendances
                  if before is None or attendance_moment(a) < before])
    entries.sort(key=lambda e: e.at, reverse=True)
    page = entries[:limit]
    return page, (page[-1].at if len(entries) > limit else None)


def open_follow_ups(user, *, assignee_id=None, due_from=None, due_to=None, record_type=None):
    """Open follow-ups `user` may see, soonest first, with their records and people."""
    query = (sa.select(Activity)
             .where(Activity.due_on.isnot(None), Activity.done_at.is_(None),
                    visible_activities(user))
             .options(joinedload(Activity.assignee), joinedload(Activity.author),
                      joinedload(Activity.contact), joinedload(Activity.organisation),
                      joinedload(Activity.event), joinedload(Activity.lead)))
    if assignee_id:
        query = query.where(Activity.assignee_id == assignee_id)
    if due_from:
        query = query.where(Activity.due_on >= due_from)
    if due_to:
        query = query.where(Activity.due_on <= due_to)
    if record_type:
        query = query.where(getattr(Activity, f"{record_type}_id").isnot(None))
    return query.order_by(Activity.due_on, Activity.id)


def overdue_per_person(today):
    """(user id, name, number of overdue follow-ups) for everyone with some, most first."""
    # Counted from the index of open follow-ups alone, then named.
    overdue = (sa.select(Activity.assignee_id, sa.func.count().label("overdue"))
               .where(Activity.due_on.isnot(None), Activity.due_on < today,
                      Activity.done_at.is_(None), Activity.deleted_at.is_(None),
                      Activity.assignee_id.isnot(None))
               .group_by(Activity.assignee_id).subquery())
    return (sa.select(User.id, User.name, overdue.c.overdue)
            .join(overdue, overdue.c.assignee_id == User.id)
            .order_by(overdue.c.overdue.desc(), User.name))



def recent_on_records_of(user, limit=15):
    """The newest activities on the contacts and leads `user` owns (theirs included)."""
    my_contacts = sa.select(Contact.id).where(Contact.owner_id == user.id,
                                              Contact.deleted_at.is_(None))
    my_leads = sa.select(Lead.id).where(Lead.owner_id == user.id, Lead.deleted_at.is_(None))
    return (sa.select(Activity)
            .where(sa.or_(Activity.contact_id.in_(my_contacts), Activity.lead_id.in_(my_leads)),
                   visible_activities(user))
            .options(joinedload(Activity.author), joinedload(Activity.contact),
                     joinedload(Activity.lead), joinedload(Activity.event))
            .order_by(Activity.occurred_at.desc(), Activity.id.desc()).limit(limit))


def met_without_activity_since(event, end_moment):
    """The attendances of people met at `event` or, for a trip, at its events (met in person or
    attended) who have had no activity since `end_moment` (the end), with their contacts; not
    those who asked not to be contacted."""
    later = sa.select(Activity.contact_id).where(Activity.contact_id.isnot(None),
                                                  Activity.occurred_at >= end_moment,
                                                  Activity.deleted_at.is_(None))
    return (sa.select(Attendance)
            .join(Contact, Contact.id == Attendance.contact_id)
            .where(Attendance.event_id.in_(sa.select(Event.id).where(
                       sa.or_(Event.id == event.id, Event.parent_id == event.id),
                       Event.deleted_at.is_(None))),
                   Attendance.status.in_(("met", "attended")),
                   Contact.deleted_at.is_(None), Contact.do_not_contact.is_(False),
                   Contact.id.not_in(later))
            .options(contains_eager(Attendance.contact))
            .order_by(Contact.name_sort, Contact.id))
