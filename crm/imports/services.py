"""Importing people with their organisations from a table (see `reading.py`): each row
updates the person it matches (by email, else by name at the same organisation) or creates
one, optionally recorded as met at or attending an event."""

import gc
from contextlib import contextmanager
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.attributes import flag_modified

from crm.activities.models import Activity
from crm.audit.services import record
from crm.auth.permissions import Permission, has_permission
from crm.contacts import services as contact_services
from crm.contacts.models import Affiliation, Contact
from crm.core.models import utcnow
from crm.core.services import ValidationError
from crm.core.sql import insert_many
from crm.core.text import organisation_match_key, search_key
from crm.events import services as event_services
from crm.events.models import Attendance
from crm.extensions import db
from crm.imports.models import ContactImport, ImportedRow
from crm.leads.models import Lead, lead_contacts
from crm.organisations import services as organisation_services
from crm.organisations.models import Organisation

# What a row may fill on the person, and on a new organisation.
CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "mobile", "position",
                  "academic_title", "language", "tags")
ORGANISATION_FIELDS = ("city", "country")


# What a row may come to.
ACTIONS = ("created", "updated", "unchanged", "failed", "empty")


@dataclass
class RowOutcome:
    """What became of one row: `number` counts from the header (1), as a spreadsheet does."""

    number: int
    action: str  # created, updated, unchanged, failed, empty
    errors: dict = field(default_factory=dict)
    contact_id: int | None = None


@dataclass
class ImportOutcome:
    rows: list[RowOutcome]
    contact_import: ContactImport | None = None

    def count(self, action):
        return sum(1 for row in self.rows if row.action == action)

    @property
    def failed(self):
        return [row for row in self.rows if row.action == "failed"]

    def counts(self):
        return {action: self.count(action) for action in ACTIONS}


def import_contacts(table, mapping, *, actor, filename, event=None, status=None, source=None,
                    contact_import=None):
    """Import the rows of `table` with `mapping` ({column index: field}); a row that cannot
    be saved is left out and reported, the others stay in the transaction (the caller commits
    or rolls back the whole). The import is in the audit log with the file name and the
    counts, and kept as a `ContactImport` with what each row did, for the undo; given
    `contact_import`, the rows are added to that one (a large file imported part by part,
    whose counts its caller keeps).

    New people (an email not known yet, or neither email nor organisation) are created in
    batches (`_create_in_batches`); a row that may mean someone known goes through
    `_import_row` on its own, after them, so that it finds people an earlier row created."""
    with _no_collector_pauses():
        return _import_contacts(table, mapping, actor=actor, filename=filename, event=event,
                                status=status, source=source, done=contact_import)


@contextmanager
def _no_collector_pauses():
    """Python's cycle collector walks every live object again and again while an import
    builds hundreds of thousands of rows, none of them in a cycle: a fifth of the time.
    It is held off until the import is done."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _import_contacts(table, mapping, *, actor, filename, event, status, source, done):
    if event is not None and event.is_deleted:
        message = _l("The event has been deleted; choose another one, or none.")
        raise ValidationError(message, fields={"event_id": [message]})
    # The import's audit entry is written first: besides the order of events, this opens the
    # transaction with a write, so that on SQLite (pysqlite) each row's SAVEPOINT is nested in
    # it; a SAVEPOINT that opened the transaction would commit when released.
    if done is None:
        entry = record("contacts.import", actor=actor, label=filename)
        done = ContactImport(user_id=getattr(actor, "id", None), filename=filename,
                             event_id=getattr(event, "id", None),
                             status=status if event else None)
        db.session.add(done)
    else:
        entry = None
        done.counts = dict(done.counts)  # a write, for the same reason
        flag_modified(done, "counts")
    db.session.flush()
    outcomes, new, known = {}, [], []
    for number, row in table.numbered():
        values = {name: row[index].strip() for index, name in mapping.items()
                  if index < len(row) and row[index].strip()}
        if not values:
            outcomes[number] = RowOutcome(number, "empty")
        elif values.get("email") or "organisation" not in values:
            new.append((number, values))
        else:
            known.append((number, values))
    known += _create_in_batches(new, outcomes, done, actor=actor, event=event, status=status,
                                source=source)
    for number, values in sorted(known, key=lambda item: item[0]):
        try:
            with db.session.begin_nested():
                contact, action, journal = _import_row(values, actor=actor, event=event,
                                                       status=status, source=source)
                if action != "unchanged" or journal.attendance_changed:
                    db.session.add(journal.row(contact, done))
                    db.session.flush()
        except ValidationError as error:
            outcomes[number] = _failed(number, error)
        else:
            outcomes[number] = RowOutcome(number, action, contact_id=contact.id)
    outcome = ImportOutcome([outcomes[number] for number in sorted(outcomes)],
                            contact_import=done)
    if entry is not None:
        done.counts = outcome.counts()
        record_counts(entry, done, done.counts)
    return outcome


def record_counts(entry, contact_import, counts):
    """The counts of an import in its audit entry."""
    entry.changes = {name: [None, count] for name, count in counts.items()}
    entry.record_type, entry.record_id = "contact_imports", contact_import.id


def _failed(number, error):
    errors = {name: [str(m) for m in messages]
              for name, messages in (error.fields or {"row": [error.message]}).items()}
    return RowOutcome(number, "failed", errors=errors)


BATCH_SIZE = 2000


def _create_in_batches(rows, outcomes, done, *, actor, event, status, source):
    """Create the people of `rows` ((number, values), each with an email or without an
    organisation) whose email nobody has yet, `BATCH_SIZE` at a time: checked in Python,
    their organisations found or created once per name, then written with one flush per
    batch. Returns the rows that may mean someone known (an email in the database, or
    one an earlier row has) or are not a valid new person, for `_import_row`."""
    checked, later = [], []
    for number, values in rows:
        try:
            clean = contact_services.clean_new_contact(_contact_data(values, source),
                                                       actor=actor)
        except ValidationError:
            # Not a valid new person; maybe someone known, whom a row need not name in full.
            later.append((number, values))
        else:
            checked.append((number, values, clean))
    known_emails = _known_emails({clean["email"] for _, _, clean in checked if clean["email"]})
    fresh, seen = [], set()
    for number, values, clean in checked:
        if clean["email"] and (clean["email"] in known_emails or clean["email"] in seen):
            later.append((number, values))
        else:
            seen.add(clean["email"])
            fresh.append((number, values, clean))
    organisations = {}
    for start in range(0, len(fresh), BATCH_SIZE):
        batch = []
        for number, values, clean in fresh[start:start + BATCH_SIZE]:
            created_id = None
            if "organisation" in values:
                try:
                    organisation, created_id = _organisation(values, organisations, actor=actor)
                except ValidationError as error:
                    outcomes[number] = _failed(number, error)
                    continue
                clean["affiliations"] = [{"organisation_id": organisation.id, "role": None,
                                          "is_current": True}]
            batch.append((number, clean, created_id))
        people = contact_services.insert_contacts([clean for _, clean, _ in batch], actor=actor)
        if event is not None:
            event_services.add_new_attendees(event, people, status, actor=actor)
        if batch:
            insert_many(ImportedRow.__table__, [
                {"import_id": done.id, "contact_id": contact_id, "created": True,
                 "version_after": 1, "organisation_created_id": created_id}
                for (_, _, created_id), (contact_id, _) in zip(batch, people, strict=True)])
        for (number, _, _), (contact_id, _) in zip(batch, people, strict=True):
            outcomes[number] = RowOutcome(number, "created", contact_id=contact_id)
    return later


def _known_emails(emails):
    """Those of `emails` that a contact has, deleted or not."""
    emails, known = sorted(emails), set()
    for start in range(0, len(emails), BATCH_SIZE):
        known.update(db.session.scalars(sa.select(Contact.email).where(
            Contact.email.in_(emails[start:start + BATCH_SIZE]))))
    return known


def _organisation(values, organisations, *, actor):
    """The organisation a row names (found, or created for the first row that names it) and
    its id if this row created it; `organisations` remembers each name's outcome."""
    key = organisation_match_key(values["organisation"]) or values["organisation"]
    if key in organisations:
        organisation, error = organisations[key]
        if error is not None:
            raise error
        return organisation, None
    try:
        with db.session.begin_nested():
            organisation, created = _find_or_create_organisation(values, actor=actor)
    except ValidationError as error:
        organisations[key] = (None, error)
        raise
    organisations[key] = (organisation, None)
    return organisation, organisation.id if created else None


def _find_or_create_organisation(values, *, actor):
    defaults = {name: values[name] for name in ORGANISATION_FIELDS if name in values}
    if len(defaults.get("country", "")) != 2:
        defaults.pop("country", None)  # only ISO codes; a country's name is left out
    return organisation_services.organisation_from_reference(
        organisation_services.NEW_PREFIX + values["organisation"], actor=actor,
        defaults=defaults)  # a name, never an id, whatever the cell looks like


def _contact_data(values, source):
    data = {name: values[name] for name in CONTACT_FIELDS if name in values}
    if "tags" in data:
        data["tags"] = [tag.strip() for tag in data["tags"].replace(";", ",").split(",")
                        if tag.strip()]
    if source:
        data["source"] = source
    return data


@dataclass
class _Journal:
    """What one row changed, gathered while it is imported."""

    created: bool = False
    before: dict | None = None
    attendance_before: str | None = None
    attendance_changed: bool = False
    organisation_created_id: int | None = None

    def row(self, contact, contact_import):
        return ImportedRow(import_id=contact_import.id, contact_id=contact.id, created=self.created, before=self.before,
                           version_after=contact.version,
                           attendance_before=self.attendance_before,
                           organisation_created_id=self.organisation_created_id)


def _before(contact):
    """What an import may change on a person, to put back on undo."""
    values = {name: getattr(contact, name) for name in CONTACT_FIELDS if name != "tags"}
    return {**values, "tags": contact.tags,
            "organisation_ids": sorted(a.organisation_id for a in contact.affiliations)}


def _import_row(values, *, actor, event, status, source):
    journal = _Journal()
    data = _contact_data(values, None)
    organisation = None
    if "organisation" in values:
        organisation, created = _find_or_create_organisation(values, actor=actor)
        if created:
            journal.organisation_created_id = organisation.id
    contact = _match(data, organisation)
    if contact is None:
        if source:
            data["source"] = source
        if organisation is not None:
            data["affiliations"] = [{"organisation_id": organisation.id}]
        contact, action = contact_services.create_contact(data, actor=actor), "created"
        journal.created = True
    else:
        version = contact.version
        journal.before = _before(contact)
        if "tags" in data:
            data["tags"] = sorted(set(contact.tags) | set(data["tags"]))
        contact_services.update_contact(contact, data, actor=actor)
        if organisation is not None and organisation.id not in {
                a.organisation_id for a in contact.affiliations}:
            contact_services.add_affiliation(contact, organisation=organisation, actor=actor)
        db.session.flush()
        action = "updated" if contact.version != version else "unchanged"
    if event is not None:
        attendance = db.session.scalar(sa.select(Attendance).where(
            Attendance.event_id == event.id, Attendance.contact_id == contact.id))
        journal.attendance_before = attendance.status if attendance is not None else None
        journal.attendance_changed = journal.attendance_before != status
        event_services.set_attendance(event, contact, status, actor=actor)
    db.session.flush()
    return contact, action, journal


def _match(data, organisation):
    """The person a row means: the one with its email, else the one with its name at its
    organisation (names compared without case, accents and umlaut spelling)."""
    if data.get("email"):
        found = contact_services.find_duplicates(data["email"], limit=1)
        if found:
            return found[0]
        if db.session.scalar(sa.select(Contact.id).where(
                Contact.email == data["email"].strip().lower(), Contact.deleted_at.isnot(None))):
            message = _l("A deleted contact has this email address: restore it first.")
            raise ValidationError(message, fields={"email": [message]})
        return None
    if organisation is None or not (data.get("first_name") or data.get("last_name")):
        return None
    name = search_key(data.get("first_name"), data.get("last_name"))
    candidates = db.session.scalars(
        sa.select(Contact).join(Affiliation, Affiliation.contact_id == Contact.id)
        .where(Affiliation.organisation_id == organisation.id, Contact.deleted_at.is_(None),
               Contact.erased_at.is_(None)).order_by(Contact.id))
    return next((c for c in candidates if search_key(c.first_name, c.last_name) == name), None)


def undo_import(contact_import, *, actor):
    """Undo an import as a whole: the people it created are removed (with their organisations
    it created, if nothing else uses them), the people it changed get back what they had, and
    attendances at its event are as before. Refused, changing nothing, when someone has changed
    one of its people since, or written a note, lead or attendance on a person it created: those
    are named, to be looked at first. Only the importer or an admin may undo."""
    if contact_import.undone_at is not None:
        raise ValidationError(_l("This import has been undone already."))
    if contact_import.in_progress:
        raise ValidationError(_l("This import is still going on; undo it once it is done."))
    if getattr(actor, "id", None) != contact_import.user_id and \
            not has_permission(actor, Permission.MANAGE_USERS):
        raise ValidationError(_l("Only the person who imported the file or an admin can undo "
                                 "the import."))
    # A person in two rows of the file: the first row knows what they were before the
    # import, the last one what the import left.
    first, last = {}, {}
    for row in contact_import.rows:
        if row.contact is not None:
            first.setdefault(row.contact_id, row)
            last[row.contact_id] = row
    blocked = [row.contact for row in first.values()
               if _changed_since(row, last[row.contact_id].version_after, contact_import)]
    if blocked:
        names = ", ".join(str(c) for c in blocked[:5]) + (" …" if len(blocked) > 5 else "")
        raise ValidationError(_l("Changed since the import: %(names)s. Undo or check these "
                                 "changes first; nothing has been undone.", names=names))
    event = contact_import.event
    removed = restored = 0
    for row in first.values():
        contact = row.contact
        if event is not None and row.attendance_before is None:
            event_services.remove_attendance(event, contact, actor=actor)
        elif event is not None:
            event_services.set_attendance(event, contact, row.attendance_before, actor=actor)
        if row.created:
            record("contact.import_remove", actor=actor, record=contact, label=str(contact))
            db.session.delete(contact)
            removed += 1
        elif row.before is not None:
            _restore(contact, row.before, actor=actor)
            restored += 1
    db.session.flush()
    for row in contact_import.rows:
        if row.organisation_created_id is not None:
            _remove_if_unused(row.organisation_created_id, actor=actor)
    contact_import.undone_at, contact_import.undone_by_id = utcnow(), getattr(actor, "id", None)
    record("contacts.import_undo", actor=actor, record=contact_import,
           label=contact_import.filename,
           changes={"removed": [None, removed], "restored": [None, restored]})
    db.session.flush()
    return removed, restored


def _changed_since(row, version_after, contact_import):
    """Whether a person of the import has been changed since, or (for one it created) has
    gathered notes, leads or attendances of their own."""
    contact = row.contact
    if contact.version != version_after or contact.is_deleted:
        return True
    if not row.created:
        return False
    own_attendances = sa.select(Attendance.id).where(
        Attendance.contact_id == contact.id,
        Attendance.event_id != (contact_import.event_id or 0))
    return bool(db.session.scalar(sa.select(sa.or_(
        sa.exists(sa.select(Activity.id).where(Activity.contact_id == contact.id)),
        sa.exists(sa.select(lead_contacts.c.lead_id).where(
            lead_contacts.c.contact_id == contact.id)),
        sa.exists(own_attendances)))))


def _restore(contact, before, *, actor):
    data = {name: before.get(name) for name in CONTACT_FIELDS}
    contact_services.update_contact(contact, data, actor=actor)
    for affiliation in list(contact.affiliations):
        if affiliation.organisation_id not in before["organisation_ids"]:
            contact_services.remove_affiliation(contact, affiliation.organisation_id,
                                                actor=actor)


def _remove_if_unused(organisation_id, *, actor):
    """Remove an organisation an undone import created, unless something else refers to it."""
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None or organisation.version != 1:
        return
    references = [
        sa.select(Affiliation.id).where(Affiliation.organisation_id == organisation_id),
        sa.select(Lead.id).where(sa.or_(Lead.organisation_id == organisation_id,
                                        Lead.referral_partner_id == organisation_id)),
        sa.select(Activity.id).where(Activity.organisation_id == organisation_id),
        sa.select(Organisation.id).where(Organisation.parent_id == organisation_id),
    ]
    if db.session.scalar(sa.select(sa.or_(*(sa.exists(r) for r in references)))):
        return
    record("organisation.import_remove", actor=actor, record=organisation,
           label=organisation.name)
    db.session.delete(organisation)
