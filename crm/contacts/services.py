"""Contacts and their affiliations: the rules for creating, changing, deleting, restoring."""

from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from crm.audit.services import diff, record, record_many
from crm.auth.models import User
from crm.contacts.models import (
    CONTACT_LANGUAGES,
    Affiliation,
    Contact,
    ContactTag,
    LegalBasis,
    name_keys,
    plain_name,
)
from crm.core.models import utcnow
from crm.core.services import (
    DuplicateError,
    NotFoundError,
    ValidationError,
    check_fields,
    check_version,
    clean_tags,
    restore,
    soft_delete,
    touch,
)
from crm.core.sql import insert_many, reserve_ids
from crm.core.validation import Checker
from crm.extensions import db
from crm.organisations import services as organisation_services
from crm.organisations.models import Organisation

FIELDS = ("first_name", "last_name", "latin_name", "academic_title", "position", "email",
          "phone", "mobile", "language", "owner_id", "legal_basis", "source", "informed_on",
          "marketing_consent", "do_not_contact", "tags", "affiliations")
# The earliest day accepted as the day a person was informed (as for other dates in Lotse).
EARLIEST_INFORMED = date(1990, 1, 1)
SIMPLE_FIELDS = FIELDS[:-2]


def get_contact(contact_id, *, include_deleted=False):
    contact = db.session.get(Contact, contact_id)
    if contact is None or (contact.is_deleted and not include_deleted):
        raise NotFoundError(_l("There is no such contact."))
    return contact


def snapshot(contact):
    """The contact's fields as the API and the audit log see them."""
    values = {field: getattr(contact, field) for field in SIMPLE_FIELDS}
    values["tags"] = contact.tags
    values["affiliations"] = [affiliation_json(a) for a in contact.affiliations]
    return values


def affiliation_json(affiliation):
    return {"organisation_id": affiliation.organisation_id, "role": affiliation.role,
            "is_current": affiliation.is_current}


def find_duplicates(email, *, exclude_id=None, limit=5):
    """Contacts with this email address (emails are stored lower-cased)."""
    if not email:
        return []
    query = sa.select(Contact).where(Contact.email == email.strip().lower(),
                                     Contact.deleted_at.is_(None))
    if exclude_id is not None:
        query = query.where(Contact.id != exclude_id)
    return db.session.scalars(query.order_by(Contact.id).limit(limit)).all()


def create_contact(data, *, actor, allow_duplicate=False):
    """A new contact; its owner is its creator unless `owner_id` says otherwise.

    A contact whose email exists already needs `allow_duplicate`.
    """
    clean = clean_new_contact(data, actor=actor)
    if not allow_duplicate:
        _refuse_duplicates(clean["email"])
    contact = Contact(created_by_id=getattr(actor, "id", None))
    _apply(contact, clean)
    db.session.add(contact)
    db.session.flush()
    record("contact.create", actor=actor, record=contact, changes=diff({}, snapshot(contact)))
    return contact


def clean_new_contact(data, *, actor):
    """A new contact's data checked and cleaned, with the defaults (its creator the owner).
    For an import that creates many at once: see `insert_contacts`."""
    check_fields(data, FIELDS)
    defaults = {**dict.fromkeys(FIELDS), "owner_id": getattr(actor, "id", None),
                "legal_basis": current_app.config["DEFAULT_LEGAL_BASIS"], "affiliations": []}
    return _clean({**defaults, **data}, contact=None)


def insert_contacts(cleaned, *, actor):
    """Write new contacts (each from `clean_new_contact`, with affiliations to existing
    organisations) with their tags, affiliations and audit entries, one statement per table
    however many they are: how an import creates people. Returns `(id, name)` of each, in
    order. The rows are as `create_contact` leaves them; no ORM object is made."""
    if not cleaned:
        return []
    now, actor_id = utcnow(), getattr(actor, "id", None)
    contacts, tags, affiliations, entries = [], [], [], []
    for contact_id, clean in zip(reserve_ids(Contact.__table__, len(cleaned)), cleaned,
                                 strict=True):
        values = {field: clean[field] for field in SIMPLE_FIELDS}
        after = {**values, "tags": sorted(clean["tags"]), "affiliations": clean["affiliations"]}
        contacts.append({**values, **name_keys(clean["first_name"], clean["last_name"],
                                               clean["latin_name"], clean["email"],
                                               after["tags"]),
                         "id": contact_id, "created_at": now, "updated_at": now,
                         "created_by_id": actor_id, "version": 1})
        tags += [{"contact_id": contact_id, "tag": tag} for tag in after["tags"]]
        affiliations += [{**affiliation, "contact_id": contact_id, "created_at": now,
                          "updated_at": now} for affiliation in clean["affiliations"]]
        name = plain_name(clean["first_name"], clean["last_name"])
        if clean["academic_title"]:
            name = f"{clean['academic_title']} {name}"
        entries.append((contact_id, name, diff({}, after)))
    insert_many(Contact.__table__, contacts)
    insert_many(ContactTag.__table__, tags)
    insert_many(Affiliation.__table__, affiliations)
    record_many("contact.create", actor=actor, record_type=Contact.__tablename__, items=entries)
    return [(contact_id, name) for contact_id, name, _ in entries]


def update_contact(contact, data, *, actor, expected_version=None, allow_duplicate=False):
    """Change the fields given in `data`; `affiliations`, if given, replaces them all. An
    erased person stays erased."""
    if contact.erased_at is not None:
        raise ValidationError(_l("This person's data has been erased; nothing can be added."))
    check_version(contact, expected_version)
    check_fields(data, FIELDS)
    before = snapshot(contact)
    clean = _clean({**before, **data}, contact=contact)
    if not allow_duplicate and clean["email"] and clean["email"] != contact.email:
        _refuse_duplicates(clean["email"], exclude_id=contact.id)
    _apply(contact, clean)
    changes = diff(before, snapshot(contact))
    if changes:
        touch(contact)
        db.session.flush()
        record("contact.update", actor=actor, record=contact, changes=changes)
    return contact


def validate_contact(data, *, allow_duplicate=False):
    """Check a new contact's data without saving anything (for steps that write more first)."""
    check_fields(data, FIELDS)
    clean = _clean({**dict.fromkeys(FIELDS), "legal_basis": current_app.config[
        "DEFAULT_LEGAL_BASIS"], "affiliations": [], **data}, contact=None)
    if not allow_duplicate:
        _refuse_duplicates(clean["email"])
    return clean


def delete_contact(contact, *, actor):
    if not contact.is_deleted:
        soft_delete(contact)
        record("contact.delete", actor=actor, record=contact)
    return contact


def restore_contact(contact, *, actor):
    if contact.is_deleted:
        restore(contact)
        record("contact.restore", actor=actor, record=contact)
    return contact


def add_affiliation(contact, *, organisation, role=None, is_current=True, actor):
    """Link `contact` to `organisation`, or update the role of an existing link."""
    affiliations = [affiliation_json(a) for a in contact.affiliations
                    if a.organisation_id != organisation.id]
    affiliations.append({"organisation_id": organisation.id, "role": role,
                         "is_current": is_current})
    return update_contact(contact, {"affiliations": affiliations}, actor=actor)


def add_affiliation_by_reference(contact, reference, *, role=None, is_current=True, actor):
    """Link `contact` to the organisation a picker or typed name refers to (maybe a new one)."""
    organisation, _created = organisation_services.organisation_from_reference(reference,
                                                                               actor=actor)
    return add_affiliation(contact, organisation=organisation, role=role, is_current=is_current,
                           actor=actor)


def remove_affiliation(contact, organisation_id, *, actor):
    affiliations = [affiliation_json(a) for a in contact.affiliations
                    if a.organisation_id != organisation_id]
    return update_contact(contact, {"affiliations": affiliations}, actor=actor)


def _clean(data, *, contact):
    """The contact's fields, cleaned. References are checked only where they change, so that an
    owner deactivated or an organisation deleted since does not block every later edit."""
    check = Checker(data)
    clean = {
        "first_name": check.text("first_name", max_length=100),
        "last_name": check.text("last_name", max_length=100, required=True),
        "latin_name": check.text("latin_name", max_length=200),
        "academic_title": check.text("academic_title", max_length=50),
        "position": check.text("position", max_length=200),
        "email": check.email("email"),
        "phone": check.phone("phone"),
        "mobile": check.phone("mobile"),
        "language": check.choice("language", CONTACT_LANGUAGES),
        "owner_id": check.record_id("owner_id"),
        "legal_basis": check.choice("legal_basis", LegalBasis, required=True),
        "source": check.text("source", max_length=300),
        "informed_on": check.day("informed_on"),
        "marketing_consent": check.boolean("marketing_consent"),
        "do_not_contact": check.boolean("do_not_contact"),
        "tags": clean_tags(check),
        "affiliations": _clean_affiliations(check, contact),
    }
    # A day ahead of UTC: it is tomorrow in Germany before it is in UTC.
    latest = utcnow().date() + timedelta(days=1)
    if clean["informed_on"] is not None and not (EARLIEST_INFORMED <= clean["informed_on"]
                                                 <= latest):
        check.fail("informed_on", _l("Give the day the person was informed; it is not in "
                                     "the future."))
    if clean["owner_id"] is not None and clean["owner_id"] != getattr(contact, "owner_id", None):
        owner = db.session.get(User, clean["owner_id"])
        if owner is None or not owner.is_active:
            check.fail("owner_id", _l("Choose an active team member."))
    check.done()
    return clean


def _clean_affiliations(check, contact):
    value = check.data.get("affiliations")
    if value in (None, ""):
        return []
    if not isinstance(value, list) or any(not isinstance(item, dict) for item in value):
        check.fail("affiliations", _l("Give a list of affiliations."))
        return []
    clean = {}
    for item in value:
        inner = Checker(item)
        organisation_id = inner.record_id("organisation_id", required=True)
        role = inner.text("role", max_length=200)
        is_current = inner.boolean("is_current", default=True)
        unknown = set(item) - {"organisation_id", "role", "is_current"}
        if inner.errors or unknown:
            check.fail("affiliations", _l("Each affiliation needs an organisation_id, and may "
                                          "have a role and is_current."))
            return []
        clean[organisation_id] = {"organisation_id": organisation_id, "role": role,
                                  "is_current": is_current}
    known = {a.organisation_id for a in contact.affiliations} if contact is not None else set()
    added = set(clean) - known
    if not added:
        return list(clean.values())
    existing = set(db.session.scalars(
        sa.select(Organisation.id).where(Organisation.id.in_(added),
                                         Organisation.deleted_at.is_(None))))
    if existing != added:
        check.fail("affiliations", _l("Choose existing organisations."))
        return []
    return list(clean.values())


def _apply(contact, clean):
    for field in SIMPLE_FIELDS:
        setattr(contact, field, clean[field])
    if contact.tags != clean["tags"]:
        contact.tag_rows = [ContactTag(tag=t) for t in sorted(clean["tags"])]
    wanted = {a["organisation_id"]: a for a in clean["affiliations"]}
    for affiliation in list(contact.affiliations):
        if affiliation.organisation_id not in wanted:
            contact.affiliations.remove(affiliation)
    have = {a.organisation_id: a for a in contact.affiliations}
    for organisation_id, values in wanted.items():
        affiliation = have.get(organisation_id)
        if affiliation is None:
            contact.affiliations.append(Affiliation(**values))
        else:
            affiliation.role, affiliation.is_current = values["role"], values["is_current"]
    contact.derive_keys()


def _refuse_duplicates(email, exclude_id=None):
    duplicates = find_duplicates(email, exclude_id=exclude_id)
    if duplicates:
        message = _l("A contact with this email address exists already.")
        raise DuplicateError(message, fields={"email": [message]}, duplicates=duplicates)
