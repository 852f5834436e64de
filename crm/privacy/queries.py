"""Read-only questions of data protection: everything held on one person (Art. 15 DSGVO)."""

from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from crm.activities.models import Activity
from crm.audit.models import AuditEntry
from crm.contacts import services as contact_services
from crm.events.models import Attendance, Event
from crm.extensions import db
from crm.leads.models import Lead, lead_contacts


@dataclass
class DataReport:
    """What Lotse holds on a person, each part as plain rows (dicts of text, numbers, dates)."""

    contact: dict
    affiliations: list = field(default_factory=list)
    attendances: list = field(default_factory=list)
    leads: list = field(default_factory=list)
    activities: list = field(default_factory=list)
    audit: list = field(default_factory=list)

    def as_json(self):
        """The report as JSON-ready data: dates and moments in ISO 8601."""
        return _plain({"contact": self.contact, "affiliations": self.affiliations,
                       "attendances": self.attendances, "leads": self.leads,
                       "activities": self.activities, "audit": self.audit})


def data_report(contact):
    """Everything held on `contact`: the record with its data-protection marks, the
    organisations, events, leads and activities it is linked to (deleted ones too, since they are
    still held) and the audit history of the record. One select per part."""
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
        audit=_audit(contact.id),
    )


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
