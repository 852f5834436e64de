"""Read-only questions about organisations: lists, typeahead, an organisation's page."""

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from crm.core.fulltext import matching_words
from crm.core.lists import ordered
from crm.core.routing import parse_id
from crm.core.text import organisation_match_key
from crm.extensions import db
from crm.organisations.models import Organisation, OrganisationSector, OrganisationTag

SORTS = {
    "name": [Organisation.name_sort],
    "kind": [Organisation.kind, Organisation.name_sort],
    "country": [Organisation.country, Organisation.name_sort],
    "city": [Organisation.city, Organisation.name_sort],
    "created_at": [Organisation.created_at],
}


def organisation_list(*, q=None, kind=None, country=None, sector=None, tag=None, sort="name",
                      descending=False, deleted=False):
    """The organisations matching the filters, with their sectors, in one select (+1 for
    the sectors of the page's rows)."""
    query = sa.select(Organisation).options(selectinload(Organisation.sector_rows))
    query = query.where(Organisation.deleted_at.isnot(None) if deleted
                        else Organisation.deleted_at.is_(None))
    if q:
        query = query.where(*matching_words(Organisation.search_text, q))
    if kind:
        query = query.where(Organisation.kind == kind)
    if country:
        query = query.where(Organisation.country == country)
    if sector:
        query = query.where(Organisation.id.in_(
            sa.select(OrganisationSector.organisation_id).where(OrganisationSector.sector == sector)))
    if tag:
        query = query.where(Organisation.id.in_(
            sa.select(OrganisationTag.organisation_id).where(OrganisationTag.tag == tag)))
    return query.order_by(*ordered(SORTS[sort], descending), Organisation.id)


def typeahead(q, limit=10):
    query = sa.select(Organisation).where(Organisation.deleted_at.is_(None),
                                          *matching_words(Organisation.search_text, q))
    return query.order_by(Organisation.name_sort, Organisation.id).limit(limit)


def by_id(organisation_id):
    return sa.select(Organisation).where(Organisation.id == organisation_id,
                                         Organisation.deleted_at.is_(None))


def all_tags():
    return sa.select(OrganisationTag.tag).distinct().order_by(OrganisationTag.tag)


def subsidiaries(organisation_id):
    return (sa.select(Organisation)
            .where(Organisation.parent_id == organisation_id, Organisation.deleted_at.is_(None))
            .order_by(Organisation.name_sort, Organisation.id))


def reference_to_id(reference):
    """An organisation id from a picker's value: the id itself, or a name typed without
    JavaScript that matches exactly one organisation. Anything else is passed on unchanged,
    for the service to refuse with a message."""
    text = str(reference or "").strip()
    if not text or parse_id(text) is not None:
        return text or None
    ids = db.session.scalars(sa.select(Organisation.id).where(
        Organisation.match_key == organisation_match_key(text),
        Organisation.deleted_at.is_(None)).limit(2)).all()
    return ids[0] if len(ids) == 1 else text
