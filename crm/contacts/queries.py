"""Read-only questions about contacts: lists, typeahead, the people of an organisation."""

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from crm.contacts.models import Affiliation, Contact, ContactTag
from crm.core.fulltext import matching_words
from crm.core.lists import ordered
from crm.organisations.models import Organisation

SORTS = {
    "name": [Contact.name_sort],
    "email": [Contact.email, Contact.name_sort],
    "position": [Contact.position, Contact.name_sort],
    "created_at": [Contact.created_at],
}


def contact_list(*, q=None, organisation_id=None, tag=None, owner_id=None, language=None,
                 event_id=None, met=False, new=False, met_by=None, sort="name",
                 descending=False, deleted=False, columns=None):
    """The contacts matching the filters, with owner and organisations, in one select (+1 for
    the affiliations of the page's rows); given `columns`, those instead (no objects, for
    the list's download). With `met` (and `new`, `met_by`), an event's contacts
    are those met there or at its events, as the reports count them."""
    from crm.events.models import Attendance  # events come after contacts
    from crm.events.queries import met_at

    if columns:
        query = sa.select(*columns).select_from(Contact)
    else:
        query = sa.select(Contact).options(
            joinedload(Contact.owner),
            selectinload(Contact.affiliations).joinedload(Affiliation.organisation))
    query = query.where(Contact.deleted_at.isnot(None) if deleted else Contact.deleted_at.is_(None))
    if q:
        query = query.where(*matching_words(Contact.search_text, q))
    if organisation_id:
        query = query.where(Contact.id.in_(sa.select(Affiliation.contact_id).where(
            Affiliation.organisation_id == organisation_id)))
    if tag:
        query = query.where(Contact.id.in_(
            sa.select(ContactTag.contact_id).where(ContactTag.tag == tag)))
    if owner_id:
        query = query.where(Contact.owner_id == owner_id)
    if language:
        query = query.where(Contact.language == language)
    if event_id and (met or new or met_by):
        query = query.where(Contact.id.in_(met_at(event_id, new=new, met_by=met_by)))
    elif event_id:
        query = query.where(Contact.id.in_(
            sa.select(Attendance.contact_id).where(Attendance.event_id == event_id)))
    return query.order_by(*ordered(SORTS[sort], descending), Contact.id)


def current_organisations(contact_ids):
    """(contact id, name) of the organisations (not deleted) the contacts work at now, by
    contact id, then as `Contact.current_affiliations` orders them."""
    return (sa.select(Affiliation.contact_id, Organisation.name)
            .join(Organisation, Organisation.id == Affiliation.organisation_id)
            .where(Affiliation.contact_id.in_(contact_ids), Affiliation.is_current.is_(True),
                   Organisation.deleted_at.is_(None))
            .order_by(Affiliation.contact_id, Affiliation.id))


def typeahead(q, limit=10):
    query = (sa.select(Contact)
             .where(Contact.deleted_at.is_(None), *matching_words(Contact.search_text, q))
             .options(selectinload(Contact.affiliations).joinedload(Affiliation.organisation)))
    return query.order_by(Contact.name_sort, Contact.id).limit(limit)


def typeahead_by_id(contact_id):
    return (sa.select(Contact).where(Contact.id == contact_id, Contact.deleted_at.is_(None))
            .options(selectinload(Contact.affiliations).joinedload(Affiliation.organisation)))


def all_tags():
    return sa.select(ContactTag.tag).distinct().order_by(ContactTag.tag)


def people_of(organisation_id):
    """An organisation's people, current first, with their contacts, in one select."""
    return (sa.select(Affiliation)
            .join(Contact, Contact.id == Affiliation.contact_id)
            .where(Affiliation.organisation_id == organisation_id, Contact.deleted_at.is_(None))
            .options(contains_eager(Affiliation.contact))
            .order_by(Affiliation.is_current.desc(), Contact.name_sort, Contact.id))
