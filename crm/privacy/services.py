"""Data protection actions on a person; each is recorded in the audit log."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from crm.activities.models import Activity
from crm.audit.models import AuditEntry
from crm.audit.services import record
from crm.contacts.models import ERASED_NAME
from crm.core.models import utcnow
from crm.core.services import ValidationError, touch
from crm.extensions import db

# The fields of a contact that hold personal data, and what erasure leaves in them.
ERASED_FIELDS = {"first_name": None, "last_name": "–", "latin_name": None,
                 "academic_title": None, "position": None, "email": None, "phone": None,
                 "mobile": None, "language": None, "source": None, "informed_on": None,
                 "marketing_consent": False}
ATTENDEE_ACTIONS = ("event.attendee_add", "event.attendee_update", "event.attendee_remove")


def note_data_report(contact, *, actor, form):
    """Record that everything held on `contact` was shown or handed out (`form`: page or
    json): who looked at a person's whole record is itself something to account for."""
    record("contact.data_report", actor=actor, record=contact,
           changes={"form": [None, form]})


def erase_contact(contact, *, actor, confirmed=False):
    """Erase a person's data (Art. 17 DSGVO), keeping an anonymous record for the counts.

    The name, addresses, numbers, tags, organisations and data-protection notes go; the text of
    the activities on the person goes, the activities stay (so follow-up counts stay right);
    the attendances and leads stay linked to the anonymous record (so people met and leads
    stay right). The audit log keeps that the changes happened, not what they said: entries
    about the person and their activities lose their labels and values, attendee entries name
    the erased person instead. The person is marked do-not-contact for good. The erasure
    itself is recorded without any of the erased data. `confirmed` says that the admin checked
    that no duty to keep the data applies."""
    if contact.erased_at is not None:
        raise ValidationError(_l("This person's data has been erased already."))
    if not confirmed:
        message = _l("Confirm that no duty to keep this person's data applies.")
        raise ValidationError(message, fields={"confirm": [message]})
    names = {contact.display_name, contact.plain_name}
    activities = db.session.scalars(
        sa.select(Activity).where(Activity.contact_id == contact.id)).all()
    _scrub_audit(contact.id, [a.id for a in activities], names)
    for activity in activities:
        activity.body = ""
        touch(activity)
    for field, value in ERASED_FIELDS.items():
        setattr(contact, field, value)
    contact.do_not_contact = True
    contact.tag_rows = []
    contact.affiliations.clear()
    contact.erased_at = utcnow()
    contact.derive_keys()
    touch(contact)
    db.session.flush()
    record("contact.erase", actor=actor, record=contact, label=f"#{contact.id}")
    return contact


def _scrub_audit(contact_id, activity_ids, names):
    """Remove the person's data from the audit entries that hold it (see `erase_contact`)."""
    about = sa.or_(
        sa.and_(AuditEntry.record_type == "contacts", AuditEntry.record_id == contact_id),
        sa.and_(AuditEntry.record_type == "activities", AuditEntry.record_id.in_(activity_ids)))
    db.session.execute(sa.update(AuditEntry).where(about)
                       .values(record_label=None, changes=None)
                       .execution_options(synchronize_session=False))
    # Attendee entries name the person in their text ("Kim Min-jung (met)"); they are few.
    erased = str(ERASED_NAME)
    for entry in db.session.scalars(sa.select(AuditEntry).where(
            AuditEntry.action.in_(ATTENDEE_ACTIONS))):
        changes = entry.changes or {}
        values = changes.get("attendee") or []
        if not any(_names_person(value, names) for value in values):
            continue
        entry.changes = {**changes, "attendee": [
            _renamed(value, names, erased) for value in values]}


def _names_person(value, names):
    return isinstance(value, str) and any(value.startswith(f"{name} (") for name in names)


def _renamed(value, names, erased):
    if not _names_person(value, names):
        return value
    name = next(name for name in names if value.startswith(f"{name} ("))
    return erased + value[len(name):]
