"""Read-only questions of data protection: everything held on one person (Art. 15 DSGVO), and
the people gone quiet for so long that keeping their data needs a decision."""

from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from crm.activities.models import Activity
from crm.audit.models import AuditEntry
from crm.contacts import services as contact_services
from crm.contacts.models import Affiliation, Contact
from crm.events.models import Attendance, Event
from crm.extensions import db
from crm.leads.models import Lead, Status, lead_contacts
from crm.privacy.models import DataRequest

# A lead the person is on and that is still being worked on keeps their data needed.
OPEN_STATUSES = (Status.ONGOING.value, Status.DELAYED.value, Status.DORMANT.value)


@dataclass
class DataReport:
    """What Lotse holds on a person, each part as plain rows (dicts of text, numbers, dates)."""

    contact: dict
    affiliations: list = field(default_factory=list)
    attendances: list = field(default_factory=list)
    leads: list = field(default_factory=list)
    activities: list = field(default_factory=list)
    requests: list = field(default_factory=list)
    audit: list = field(default_factory=list)

    def as_json(self):
        """The report as JSON-ready data: dates and moments in ISO 8601."""
        return _plain({"contact": self.contact, "affiliations": self.affiliations,
                       "attendances": self.attendances, "leads": self.leads,
                       "activities": self.activities, "requests": self.requests,
                       "audit": self.audit})


def data_report(contact):
    """Everything held on `contact`: the record with its data-protection marks, the
    organisations, events, leads and activities it is linked to (deleted ones too, since they are
    still held), the requests the person made and the audit history of the record. One select
    per part."""
    record = contact_services.snapshot(contact)
    record.pop("affiliations")
    record.update(id=contact.id, display_name=contact.display_name,
                  owner=contact.owner.name if contact.owner else None,
                  created_at=contact.created_at, updated_at=contact.updated_at,
                  deleted_at=contact.deleted_at)
    return DataReport(
        contact=record,
        affiliations=[{"organisation": a.organisation.name, "role": a.role,
                       "is_current": a.is_current} for a in contact.affiliations],
        attendances=_attendances(contact.id),
        leads=_leads(contact.id),
        activities=_activities(contact.id),
        requests=_requests(contact.id),
        audit=_audit(contact.id),
    )


def retention_due(cutoff):
    """The people to review: recorded and last changed before `cutoff` (a moment), without
    any activity on them, any event attended or any open lead since, and not kept by a review
    since; longest quiet first. People deleted (not erased) before `cutoff` are among them:
    a deletion can be undone, so their data is still held until it is erased. One select, and
    one for the organisations of the page's rows (`last_activities` adds when each was last
    active)."""
    last = (sa.select(sa.func.max(Activity.occurred_at))
            .where(Activity.contact_id == Contact.id, Activity.deleted_at.is_(None))
            .correlate(Contact).scalar_subquery())
    recent_event = (sa.select(Attendance.id)
                    .join(Event, Event.id == Attendance.event_id)
                    .where(Attendance.contact_id == Contact.id,
                           Event.ends_on >= cutoff.date(), Event.deleted_at.is_(None)))
    open_lead = (sa.select(lead_contacts.c.lead_id)
                 .join(Lead, Lead.id == lead_contacts.c.lead_id)
                 .where(lead_contacts.c.contact_id == Contact.id, Lead.deleted_at.is_(None),
                        Lead.status.in_(OPEN_STATUSES)))
    return (sa.select(Contact)
            .where(Contact.erased_at.is_(None),
                   Contact.created_at < cutoff, Contact.updated_at < cutoff,
                   sa.or_(Contact.retention_reviewed_on.is_(None),
                          Contact.retention_reviewed_on < cutoff.date()),
                   sa.or_(last.is_(None), last < cutoff),
                   ~recent_event.exists(), ~open_lead.exists())
            .options(joinedload(Contact.owner),
                     selectinload(Contact.affiliations).joinedload(Affiliation.organisation))
            .order_by(last.asc().nulls_first(), Contact.name_sort, Contact.id))


def last_activities(contact_ids):
    """{contact id: the moment of the last activity on them} for those that have one."""
    return dict(db.session.execute(
        sa.select(Activity.contact_id, sa.func.max(Activity.occurred_at))
        .where(Activity.contact_id.in_(contact_ids), Activity.deleted_at.is_(None))
        .group_by(Activity.contact_id)).all())


def data_requests():
    """The register: open requests first, the nearest deadline first; then the answered ones,
    latest first. With the person and who answered, in one select."""
    return (sa.select(DataRequest)
            .options(joinedload(DataRequest.contact), joinedload(DataRequest.done_by))
            .order_by(DataRequest.done_on.is_not(None),
                      sa.case((DataRequest.done_on.is_(None), DataRequest.due_on)),
                      DataRequest.done_on.desc(), DataRequest.id.desc()))


def _attendances(contact_id):
    rows = db.session.execute(
        sa.select(Event.name, Event.kind, Event.starts_on, Event.ends_on, Attendance.status)
        .join(Attendance, Attendance.event_id == Event.id)
        .where(Attendance.contact_id == contact_id)
        .order_by(Event.starts_on, Event.id))
    return [{"event": name, "kind": kind, "starts_on": starts_on, "ends_on": ends_on,
             "status": status} for name, kind, starts_on, ends_on, status in rows]


def _leads(contact_id):
    rows = db.session.execute(
        sa.select(Lead.id, Lead.title, Lead.stage, Lead.status, Lead.deleted_at)
        .join(lead_contacts, lead_contacts.c.lead_id == Lead.id)
        .where(lead_contacts.c.contact_id == contact_id)
        .order_by(Lead.created_at, Lead.id))
    return [{"id": lead_id, "title": title, "stage": stage, "status": status,
             "deleted": deleted_at is not None}
            for lead_id, title, stage, status, deleted_at in rows]


def _activities(contact_id):
    activities = db.session.scalars(
        sa.select(Activity).where(Activity.contact_id == contact_id)
        .options(joinedload(Activity.author), joinedload(Activity.assignee))
        .order_by(Activity.occurred_at, Activity.id))
    return [{"kind": a.kind, "occurred_at": a.occurred_at, "body": a.body,
             "author": a.author.name if a.author else None, "due_on": a.due_on,
             "assignee": a.assignee.name if a.assignee else None, "done_at": a.done_at,
             "deleted": a.deleted_at is not None} for a in activities]


def _requests(contact_id):
    rows = db.session.scalars(sa.select(DataRequest).where(DataRequest.contact_id == contact_id)
                              .order_by(DataRequest.received_on, DataRequest.id))
    return [{"kind": r.kind, "kind_label": str(r.kind_enum.label), "requester": r.requester,
             "received_on": r.received_on, "due_on": r.due_on, "done_on": r.done_on}
            for r in rows]


def _audit(contact_id):
    entries = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.record_type == "contacts",
                                    AuditEntry.record_id == contact_id)
        .options(joinedload(AuditEntry.actor))
        .order_by(AuditEntry.id))
    return [{"at": e.created_at, "action": e.action, "action_label": e.action_label,
             "by": e.actor.name if e.actor else None, "changes": e.changes or {}}
            for e in entries]


def _plain(value):
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value
