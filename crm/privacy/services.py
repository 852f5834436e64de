"""Data protection actions on a person; each is recorded in the audit log."""

import calendar
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from crm.activities.models import Activity
from crm.audit.models import AuditEntry
from crm.audit.services import record
from crm.contacts.models import ERASED_NAME, Contact
from crm.core.models import utcnow
from crm.core.services import ValidationError, check_version, touch
from crm.core.validation import LONG_TEXT_MAX, Checker
from crm.duplicates.models import Merge
from crm.events.models import Attendance
from crm.extensions import db
from crm.imports.models import ImportedRow
from crm.privacy.models import DataRequest, RequestKind

# The fields of a contact that hold personal data, and what erasure leaves in them.
ERASED_FIELDS = {"first_name": None, "last_name": "–", "latin_name": None,
                 "academic_title": None, "position": None, "email": None, "phone": None,
                 "mobile": None, "language": None, "source": None, "informed_on": None,
                 "marketing_consent": False}
ATTENDEE_ACTIONS = ("event.attendee_add", "event.attendee_update", "event.attendee_remove")
MERGE_ACTIONS = ("contact.merge", "contact.merge_undo")


def note_data_report(contact, *, actor, form):
    """Record that everything held on `contact` was shown or handed out (`form`: page or
    json): who looked at a person's whole record is itself something to account for."""
    record("contact.data_report", actor=actor, record=contact,
           changes={"form": [None, form]})


def retention_years():
    """How many quiet years bring a person up for review (`RETENTION_YEARS`, at least one)."""
    return max(1, current_app.config["RETENTION_YEARS"])


def retention_cutoff(today, years):
    """The start of the same day `years` years before `today` (28 February for a 29th), in
    the agency's time zone: who was last active before it comes up for review."""
    try:
        day = today.replace(year=today.year - years)
    except ValueError:
        day = today.replace(year=today.year - years, day=28)
    return datetime.combine(day, time(0),
                            tzinfo=ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]))


def keep_contact(contact, *, actor, today):
    """Record an admin's decision in the retention review to keep a quiet person's data; the
    person comes up again when another review period has passed."""
    if contact.erased_at is not None:
        raise ValidationError(_l("This person's data has been erased already."))
    before = contact.retention_reviewed_on
    contact.retention_reviewed_on = today
    record("contact.retention_keep", actor=actor, record=contact,
           changes={"retention_reviewed_on": [before, today]})
    return contact


def erase_contact(contact, *, actor, confirmed=False):
    """Erase a person's data (Art. 17 DSGVO), keeping an anonymous record for the counts.

    The name, addresses, numbers, tags, organisations and data-protection notes go; the text of
    the activities on the person goes, the activities stay (so follow-up counts stay right);
    open follow-ups on the person are closed. The attendances and leads stay linked to the
    anonymous record (so people met and leads stay right); requests in the register keep who
    asked (the proof that the request was handled) but no longer point to the record. The
    audit log keeps that the changes happened, not what they said: entries about the person and
    their activities lose their labels and values, attendee entries of the events the person
    attended name the erased person instead. The person is marked do-not-contact for good. The
    erasure itself is recorded without any of the erased data. `confirmed` says that the admin
    checked that no duty to keep the data applies."""
    if contact.erased_at is not None:
        raise ValidationError(_l("This person's data has been erased already."))
    if not confirmed:
        message = _l("Confirm that no duty to keep this person's data applies.")
        raise ValidationError(message, fields={"confirm": [message]})
    names = {contact.display_name, contact.plain_name}
    now = utcnow()
    activities = db.session.scalars(
        sa.select(Activity).where(Activity.contact_id == contact.id)).all()
    _scrub_audit(contact.id, [a.id for a in activities], names)
    for activity in activities:
        activity.body = ""
        if activity.due_on is not None and activity.done_at is None:
            activity.done_at, activity.done_by_id = now, getattr(actor, "id", None)
        touch(activity)
    db.session.execute(sa.update(DataRequest).where(DataRequest.contact_id == contact.id)
                       .values(contact_id=None).execution_options(synchronize_session=False))
    # What an import found on the person before changing them, kept for its undo, goes too:
    # the import can no longer be undone for this person.
    db.session.execute(sa.delete(ImportedRow).where(ImportedRow.contact_id == contact.id)
                       .execution_options(synchronize_session=False))
    # So does what a merge kept of the person for its undo.
    db.session.execute(sa.delete(Merge).where(
        Merge.record_type == "contacts",
        sa.or_(Merge.kept_id == contact.id, Merge.other_id == contact.id))
        .execution_options(synchronize_session=False))
    for field, value in ERASED_FIELDS.items():
        setattr(contact, field, value)
    contact.do_not_contact = True
    contact.tag_rows = []
    contact.affiliations.clear()
    contact.erased_at = now
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
    # Attendee entries name the person in their text ("Kim (met)"). They carry the person's id
    # (`attendee_id`), also when the person has left the event since; older entries are found
    # by the events the person attends and their name.
    events = sa.select(Attendance.event_id).where(Attendance.contact_id == contact_id)
    by_id = sa.or_(*(AuditEntry.changes[("attendee_id", side)].as_integer() == contact_id
                     for side in (0, 1)))
    erased = str(ERASED_NAME)
    for entry in db.session.scalars(sa.select(AuditEntry).where(
            AuditEntry.action.in_(ATTENDEE_ACTIONS), AuditEntry.record_type == "events",
            sa.or_(by_id, AuditEntry.record_id.in_(events)))):
        changes = entry.changes or {}
        values = changes.get("attendee") or []
        ids = changes.get("attendee_id")
        if ids is not None:
            if contact_id not in ids:
                continue
            renamed = [_status_of_erased(value, erased) for value in values]
        elif any(_names_person(value, names) for value in values):
            renamed = [_renamed(value, names, erased) for value in values]
        else:
            continue
        entry.changes = {**changes, "attendee": renamed}
    # A merge is recorded on the kept person, naming the other ("Kim (#12)") by id too.
    merged = sa.or_(*(AuditEntry.changes[("merged_id", side)].as_integer() == contact_id
                      for side in (0, 1)))
    for entry in db.session.scalars(sa.select(AuditEntry).where(
            AuditEntry.action.in_(MERGE_ACTIONS), AuditEntry.record_type == "contacts",
            merged)):
        changes = entry.changes or {}
        entry.changes = {**changes, "merged": [
            f"{erased} (#{contact_id})" if merged_id == contact_id else value
            for value, merged_id in zip(changes.get("merged") or [], changes["merged_id"],
                                        strict=False)]}


def _status_of_erased(value, erased):
    """ "Kim Min-jung (met)" as "<erased person> (met)"; the status stays, the name goes."""
    if not isinstance(value, str):
        return value
    status = value.rfind(" (")
    return erased + (value[status:] if status >= 0 else "")


def _names_person(value, names):
    return isinstance(value, str) and any(value.startswith(f"{name} (") for name in names)


def _renamed(value, names, erased):
    if not _names_person(value, names):
        return value
    name = next(name for name in names if value.startswith(f"{name} ("))
    return erased + value[len(name):]


# -- The register of data-subject requests ----------------------------------------------------

# The earliest day a request may have been received on: the DSGVO applies from 25 May 2018.
FIRST_REQUEST_DAY = date(2018, 5, 25)


def one_month_after(day):
    """The day a month after `day` (Art. 12 (3)); the month's last day where it is shorter:
    31 January gives 28 (or 29) February."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def create_request(data, *, actor, today):
    """Register a request: its kind, who asked, when it came in (not in the future), the person
    it concerns if known, a note. It is due one month after it came in."""
    check = Checker(data)
    kind = check.choice("kind", RequestKind, required=True)
    requester = check.text("requester", max_length=200, required=True)
    received_on = check.day("received_on", required=True)
    if received_on is not None and not FIRST_REQUEST_DAY <= received_on <= today:
        check.fail("received_on", _l("Give the day the request came in; it is not in the future "
                                     "and not before 25.05.2018."))
    contact_id = check.record_id("contact_id")
    if contact_id is not None and db.session.scalar(
            sa.select(Contact.id).where(Contact.id == contact_id,
                                        Contact.deleted_at.is_(None))) is None:
        check.fail("contact_id", _l("Choose an existing contact."))
    note = check.text("note", max_length=LONG_TEXT_MAX, multiline=True)
    check.done()
    request = DataRequest(kind=kind, requester=requester, received_on=received_on,
                          due_on=one_month_after(received_on), contact_id=contact_id, note=note,
                          created_by_id=getattr(actor, "id", None))
    db.session.add(request)
    db.session.flush()
    record("data_request.create", actor=actor, record=request, label=f"#{request.id}",
           changes={"kind": [None, kind], "received_on": [None, received_on],
                    "due_on": [None, request.due_on]})
    return request


def close_request(request, *, actor, today, expected_version=None):
    """Mark a request as answered today, by `actor`."""
    check_version(request, expected_version)
    if request.done_on is None:
        request.done_on, request.done_by_id = today, getattr(actor, "id", None)
        record("data_request.done", actor=actor, record=request, label=f"#{request.id}",
               changes={"done_on": [None, today]})
    return request
