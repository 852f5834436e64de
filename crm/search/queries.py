"""The global search: the best matches of each kind of record a user may see.

Each group is one select through the search column's index (`crm.core.fulltext`), best matches
first (a word at the start of the name before one inside it), then by name or date. What a user
may not see is never selected: deleted records, confidential leads and the notes on them kept
from the user, notes about deleted records; erased people have an empty search column.
"""

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from crm.activities.models import Activity
from crm.activities.queries import visible_activities
from crm.contacts.models import Affiliation, Contact
from crm.core.fulltext import matching_words, newest_matching, query_words, word_rank
from crm.core.text import search_key
from crm.events.models import Event
from crm.extensions import db
from crm.leads.models import Lead
from crm.leads.queries import visible as visible_leads
from crm.organisations.models import Organisation

GROUPS = ("contacts", "organisations", "leads", "events", "notes")
EXCERPT_WORDS = 30
# How many of the newest matching notes the notes group ranks.
NOTES_WINDOW = 500


def organisations(q, limit):
    return (sa.select(Organisation)
            .where(Organisation.deleted_at.is_(None),
                   *matching_words(Organisation.search_text, q))
            .order_by(word_rank(Organisation.search_text, q), Organisation.name_sort,
                      Organisation.id)
            .limit(limit))


def contacts(q, limit):
    return (sa.select(Contact)
            .where(Contact.deleted_at.is_(None), Contact.erased_at.is_(None),
                   *matching_words(Contact.search_text, q))
            .options(selectinload(Contact.affiliations).joinedload(Affiliation.organisation))
            .order_by(word_rank(Contact.search_text, q), Contact.name_sort, Contact.id)
            .limit(limit))


def leads(user, q, limit):
    return (sa.select(Lead)
            .where(visible_leads(user), *matching_words(Lead.search_text, q))
            .options(joinedload(Lead.organisation))
            .order_by(word_rank(Lead.search_text, q), Lead.title_sort, Lead.id)
            .limit(limit))


def events(q, limit):
    return (sa.select(Event)
            .where(Event.deleted_at.is_(None), *matching_words(Event.search_text, q))
            .order_by(word_rank(Event.search_text, q), Event.starts_on.desc(), Event.id.desc())
            .limit(limit))


def notes(user, q, limit):
    """Activities whose text matches, newest first among equally good matches, with the records
    they are about: the best among the newest `NOTES_WINDOW` notes that match (a common name
    is in tens of thousands of notes, which would all be read and ranked otherwise)."""
    deleted_organisations = sa.select(Organisation.id).where(Organisation.deleted_at.isnot(None))
    deleted_events = sa.select(Event.id).where(Event.deleted_at.isnot(None))
    visible = [visible_activities(user),
               sa.or_(Activity.organisation_id.is_(None),
                      Activity.organisation_id.not_in(deleted_organisations)),
               sa.or_(Activity.event_id.is_(None), Activity.event_id.not_in(deleted_events))]
    return (sa.select(Activity)
            .where(newest_matching(Activity.search_text, q, NOTES_WINDOW, *visible), *visible)
            .options(joinedload(Activity.author), joinedload(Activity.contact),
                     joinedload(Activity.organisation), joinedload(Activity.event),
                     joinedload(Activity.lead))
            .order_by(word_rank(Activity.search_text, q), Activity.occurred_at.desc(),
                      Activity.id.desc())
            .limit(limit))


def search(user, q, limit):
    """{group: (records, more)} for the groups with matches; `more` when there are further
    ones than `limit`. One select per group (two for contacts, with their organisations)."""
    if not query_words(q):
        return {}
    selects = {"contacts": contacts(q, limit + 1), "organisations": organisations(q, limit + 1),
               "leads": leads(user, q, limit + 1), "events": events(q, limit + 1),
               "notes": notes(user, q, limit + 1)}
    found = {}
    for group in GROUPS:
        records = db.session.scalars(selects[group]).unique().all()
        if records:
            found[group] = (records[:limit], len(records) > limit)
    return found


def excerpt(text, q, words=EXCERPT_WORDS):
    """A piece of a note's text around the first word of it that matches the search."""
    parts = text.split()
    wanted = query_words(q)
    start = next((i for i, part in enumerate(parts)
                  if any(word in search_key(part) for word in wanted)), 0)
    start = max(0, start - words // 3)
    piece = " ".join(parts[start:start + words])
    return ("… " if start else "") + piece + (" …" if start + words < len(parts) else "")
