"""Organisations: the rules for creating, changing, deleting and restoring them."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from crm.audit.services import diff, record
from crm.core.routing import parse_id
from crm.core.services import (
    ConflictError,
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
from crm.core.text import organisation_match_key
from crm.core.validation import LONG_TEXT_MAX, Checker
from crm.extensions import db
from crm.organisations.models import (
    Organisation,
    OrganisationKind,
    OrganisationSector,
    OrganisationTag,
    Sector,
)

FIELDS = ("name", "kind", "country", "city", "address", "website", "description", "parent_id",
          "sectors", "tags")


def get_organisation(organisation_id, *, include_deleted=False):
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None or (organisation.is_deleted and not include_deleted):
        raise NotFoundError(_l("There is no such organisation."))
    return organisation


def snapshot(organisation):
    """The organisation's fields as the API and the audit log see them."""
    return {
        "name": organisation.name, "kind": organisation.kind, "country": organisation.country,
        "city": organisation.city, "address": organisation.address,
        "website": organisation.website, "description": organisation.description,
        "parent_id": organisation.parent_id, "sectors": organisation.sectors,
        "tags": organisation.tags,
    }


def find_duplicates(name, *, exclude_id=None, limit=5):
    """Organisations whose names match `name`, ignoring case, umlaut spelling and legal form."""
    key = organisation_match_key(name or "")
    if not key:
        return []
    query = sa.select(Organisation).where(Organisation.match_key == key,
                                          Organisation.deleted_at.is_(None))
    if exclude_id is not None:
        query = query.where(Organisation.id != exclude_id)
    return db.session.scalars(query.order_by(Organisation.id).limit(limit)).all()


def create_organisation(data, *, actor, allow_duplicate=False):
    """A new organisation. A name like an existing one's needs `allow_duplicate`."""
    check_fields(data, FIELDS)
    clean = _clean({**dict.fromkeys(FIELDS), "kind": OrganisationKind.OTHER.value, **data})
    if not allow_duplicate:
        _refuse_duplicates(clean["name"])
    organisation = Organisation(created_by_id=getattr(actor, "id", None))
    _apply(organisation, clean)
    db.session.add(organisation)
    db.session.flush()
    record("organisation.create", actor=actor, record=organisation,
           changes=diff({}, snapshot(organisation)))
    return organisation


def update_organisation(organisation, data, *, actor, expected_version=None,
                        allow_duplicate=False):
    """Change the fields given in `data`; the others keep their values."""
    check_version(organisation, expected_version)
    check_fields(data, FIELDS)
    before = snapshot(organisation)
    clean = _clean({**before, **data}, organisation=organisation)
    if not allow_duplicate and organisation_match_key(clean["name"]) != organisation.match_key:
        _refuse_duplicates(clean["name"], exclude_id=organisation.id)
    _apply(organisation, clean)
    changes = diff(before, snapshot(organisation))
    if changes:
        touch(organisation)
        db.session.flush()
        record("organisation.update", actor=actor, record=organisation, changes=changes)
    return organisation


def delete_organisation(organisation, *, actor):
    """Soft delete: the organisation disappears from lists and pages; an admin can restore it.

    An organisation with leads stays: its leads would lose their investor.
    """
    # The leads area comes later; its table is read through the shared metadata.
    leads = db.metadata.tables["leads"]
    open_leads = db.session.scalar(sa.select(sa.func.count()).select_from(leads).where(
        leads.c.organisation_id == organisation.id, leads.c.deleted_at.is_(None)))
    if open_leads:
        raise ConflictError(_l("This organisation is the investor of %(num)s leads; delete or "
                               "move them first.", num=open_leads))
    if not organisation.is_deleted:
        soft_delete(organisation)
        record("organisation.delete", actor=actor, record=organisation)
    return organisation


def restore_organisation(organisation, *, actor):
    if organisation.is_deleted:
        restore(organisation)
        record("organisation.restore", actor=actor, record=organisation)
    return organisation


def _clean(data, organisation=None):
    check = Checker(data)
    clean = {
        "name": check.text("name", max_length=300, required=True),
        "kind": check.choice("kind", OrganisationKind, required=True),
        "country": check.country("country"),
        "city": check.text("city", max_length=200),
        "address": check.text("address", max_length=1000, multiline=True),
        "website": check.url("website"),
        "description": check.text("description", max_length=LONG_TEXT_MAX, multiline=True),
        "parent_id": check.record_id("parent_id"),
        "sectors": check.choices("sectors", Sector),
        "tags": clean_tags(check),
    }
    # Only a new parent is checked: one deleted since must not block every later edit.
    unchanged = organisation is not None and clean["parent_id"] == organisation.parent_id
    if clean["parent_id"] is not None and "parent_id" not in check.errors and not unchanged:
        problem = _parent_problem(clean["parent_id"], organisation)
        if problem:
            check.fail("parent_id", problem)
    check.done()
    return clean


def _parent_problem(parent_id, organisation):
    """Why `parent_id` cannot be the parent of `organisation` (None if it can)."""
    parent = db.session.get(Organisation, parent_id)
    if parent is None or parent.is_deleted:
        return _l("Choose an existing organisation.")
    if organisation is not None:
        seen = set()
        while parent is not None and parent.id not in seen:
            if parent.id == organisation.id:
                return _l("An organisation cannot belong to itself or to one of its own parts.")
            seen.add(parent.id)
            parent = parent.parent
    return None


def _apply(organisation, clean):
    for field in ("name", "kind", "country", "city", "address", "website", "description",
                  "parent_id"):
        setattr(organisation, field, clean[field])
    if organisation.sectors != clean["sectors"]:
        organisation.sector_rows = [OrganisationSector(sector=s) for s in sorted(clean["sectors"])]
    if organisation.tags != clean["tags"]:
        organisation.tag_rows = [OrganisationTag(tag=t) for t in sorted(clean["tags"])]
    organisation.derive_keys()


def _refuse_duplicates(name, exclude_id=None):
    duplicates = find_duplicates(name, exclude_id=exclude_id)
    if duplicates:
        message = _l("An organisation with this name exists already.")
        raise DuplicateError(message, fields={"name": [message]}, duplicates=duplicates)


NEW_PREFIX = "new:"


def organisation_from_reference(value, *, actor, defaults=None):
    """For quick capture: the organisation a picker or a typed name refers to.

    `value` is an id (picked from the list), `new:<name>` (a new name entered in the picker) or
    a plain name (typed without JavaScript). A name matching an existing organisation (case,
    umlaut spelling and legal form aside) picks that one; otherwise a new organisation is made
    with `defaults` (e.g. the country of the event). Returns `(organisation, created)`.
    """
    text = str(value if value is not None else "").strip()
    if not text.startswith(NEW_PREFIX):
        organisation_id = parse_id(text)
        if organisation_id is not None:
            organisation = db.session.get(Organisation, organisation_id)
            if organisation is None or organisation.is_deleted:
                raise _reference_error(_l("Choose an existing organisation."))
            return organisation, False
    name = text.removeprefix(NEW_PREFIX).strip()
    if not name:
        raise _reference_error(_l("Choose or name an organisation."))
    duplicates = find_duplicates(name, limit=1)
    if duplicates:
        return duplicates[0], False
    data = {"kind": OrganisationKind.INVESTOR.value, **(defaults or {}), "name": name}
    try:
        return create_organisation(data, actor=actor), True
    except ValidationError as error:
        raise _reference_error(next(iter(error.fields.values()))[0]) from None


def _reference_error(message):
    return ValidationError(message, fields={"organisation": [message]})
