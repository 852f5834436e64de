"""Importing people with their organisations from a table (see `reading.py`): each row
updates the person it matches (by email, else by name at the same organisation) or creates
one, optionally recorded as met at or attending an event."""

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from crm.audit.services import record
from crm.contacts import services as contact_services
from crm.contacts.models import Affiliation, Contact
from crm.core.services import ValidationError
from crm.core.text import search_key
from crm.events import services as event_services
from crm.extensions import db
from crm.organisations import services as organisation_services

# What a row may fill on the person, and on a new organisation.
CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "mobile", "position",
                  "academic_title", "language", "tags")
ORGANISATION_FIELDS = ("city", "country")


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

    def count(self, action):
        return sum(1 for row in self.rows if row.action == action)

    @property
    def failed(self):
        return [row for row in self.rows if row.action == "failed"]

    def counts(self):
        return {action: self.count(action)
                for action in ("created", "updated", "unchanged", "failed", "empty")}


def import_contacts(table, mapping, *, actor, filename, event=None, status=None, source=None):
    """Import the rows of `table` with `mapping` ({column index: field}); a row that cannot
    be saved is rolled back alone and reported, the others stay in the transaction (the
    caller commits or rolls back the whole). The import is in the audit log with the file
    name and the counts."""
    if event is not None and event.is_deleted:
        message = _l("The event has been deleted; choose another one, or none.")
        raise ValidationError(message, fields={"event_id": [message]})
    # The import's audit entry is written first: besides the order of events, this opens the
    # transaction with a write, so that on SQLite (pysqlite) each row's SAVEPOINT is nested in
    # it; a SAVEPOINT that opened the transaction would commit when released.
    entry = record("contacts.import", actor=actor, label=filename)
    db.session.flush()
    outcomes = []
    for number, row in enumerate(table.rows, start=2):
        values = {name: row[index].strip() for index, name in mapping.items()
                  if index < len(row) and row[index].strip()}
        if not values:
            outcomes.append(RowOutcome(number, "empty"))
            continue
        try:
            with db.session.begin_nested():
                contact, action = _import_row(values, actor=actor, event=event, status=status,
                                              source=source)
        except ValidationError as error:
            errors = {name: [str(m) for m in messages]
                      for name, messages in (error.fields or {"row": [error.message]}).items()}
            outcomes.append(RowOutcome(number, "failed", errors=errors))
        else:
            outcomes.append(RowOutcome(number, action, contact_id=contact.id))
    outcome = ImportOutcome(outcomes)
    entry.changes = {name: [None, count] for name, count in outcome.counts().items()}
    return outcome


def _import_row(values, *, actor, event, status, source):
    data = {name: values[name] for name in CONTACT_FIELDS if name in values}
    if "tags" in data:
        data["tags"] = [tag.strip() for tag in data["tags"].replace(";", ",").split(",")
                        if tag.strip()]
    organisation = None
    if "organisation" in values:
        defaults = {name: values[name] for name in ORGANISATION_FIELDS if name in values}
        if len(defaults.get("country", "")) != 2:
            defaults.pop("country", None)  # only ISO codes; a country's name is left out
        organisation, _ = organisation_services.organisation_from_reference(
            organisation_services.NEW_PREFIX + values["organisation"], actor=actor,
            defaults=defaults)  # a name, never an id, whatever the cell looks like
    contact = _match(data, organisation)
    if contact is None:
        if source:
            data["source"] = source
        if organisation is not None:
            data["affiliations"] = [{"organisation_id": organisation.id}]
        contact, action = contact_services.create_contact(data, actor=actor), "created"
    else:
        version = contact.version
        if "tags" in data:
            data["tags"] = sorted(set(contact.tags) | set(data["tags"]))
        contact_services.update_contact(contact, data, actor=actor)
        if organisation is not None and organisation.id not in {
                a.organisation_id for a in contact.affiliations}:
            contact_services.add_affiliation(contact, organisation=organisation, actor=actor)
        db.session.flush()
        action = "updated" if contact.version != version else "unchanged"
    if event is not None:
        event_services.set_attendance(event, contact, status, actor=actor)
    return contact, action


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
