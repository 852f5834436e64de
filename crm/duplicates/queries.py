"""Finding records that are likely one: contacts with the same email or the same name (folded,
in any order), organisations with the same name once legal forms and spellings are aside."""

import itertools

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from crm.contacts.models import Affiliation, Contact
from crm.duplicates.models import DistinctPair
from crm.extensions import db
from crm.organisations.models import Organisation

MAX_GROUPS = 100


def contact_groups(limit=MAX_GROUPS):
    """Groups of contacts that are likely one person, each as `(contacts, reasons)`; in four
    selects whatever the number of contacts."""
    live = sa.and_(Contact.deleted_at.is_(None), Contact.erased_at.is_(None))
    email = sa.func.lower(Contact.email)
    same_name = (sa.select(Contact.name_key).where(live, Contact.name_key != "")
                 .group_by(Contact.name_key).having(sa.func.count() > 1)
                 .order_by(Contact.name_key).limit(limit))
    same_email = (sa.select(email).where(live, Contact.email.isnot(None))
                  .group_by(email).having(sa.func.count() > 1).order_by(email).limit(limit))
    contacts = db.session.scalars(
        sa.select(Contact).where(live, sa.or_(Contact.name_key.in_(same_name),
                                              email.in_(same_email)))
        .options(selectinload(Contact.affiliations).joinedload(Affiliation.organisation))
        .order_by(Contact.name_sort, Contact.id)).all()
    groups = _connected(contacts, _contact_keys, _marked("contacts"))
    result = []
    for group in groups[:limit]:
        reasons = set()
        if len({c.name_key for c in group}) == 1:
            reasons.add("name")
        if len({(c.email or "").lower() for c in group}) == 1 and group[0].email:
            reasons.add("email")
        organisations = [{a.organisation_id for a in c.affiliations} for c in group]
        if set.intersection(*organisations):
            reasons.add("organisation")
        result.append((group, sorted(reasons)))
    return result


def organisation_groups(limit=MAX_GROUPS):
    """Groups of organisations with the same name once legal forms, case, accents and umlaut
    spellings are aside, in three selects."""
    same = (sa.select(Organisation.match_key)
            .where(Organisation.deleted_at.is_(None), Organisation.match_key != "")
            .group_by(Organisation.match_key).having(sa.func.count() > 1)
            .order_by(Organisation.match_key).limit(limit))
    organisations = db.session.scalars(
        sa.select(Organisation).where(Organisation.deleted_at.is_(None),
                                      Organisation.match_key.in_(same))
        .order_by(Organisation.match_key, Organisation.id)).all()
    groups = _connected(organisations, lambda o: [("name", o.match_key)],
                        _marked("organisations"))
    return [(group, ["name"]) for group in groups]


def _contact_keys(contact):
    return [("name", contact.name_key), ("email", (contact.email or "").lower() or None)]


def _marked(record_type):
    """The pairs of ids marked as not the same (`DistinctPair`), in one select (the marks are
    made by hand, a few hundred at most)."""
    return {tuple(pair) for pair in db.session.execute(
        sa.select(DistinctPair.first_id, DistinctPair.second_id).where(
            DistinctPair.record_type == record_type))}


def _connected(records, keys, marked):
    """The records in groups linked by a shared key, two records at a time, unless the two are
    `marked` as not the same (a record may link two others that share nothing)."""
    by_key = {}
    for record_ in records:
        for key in keys(record_):
            if key[1]:
                by_key.setdefault(key, []).append(record_)
    links = {record_.id: set() for record_ in records}
    in_marks = {record_id for pair in marked for record_id in pair}
    for alike in by_key.values():
        ids = [record_.id for record_ in alike]
        if in_marks.isdisjoint(ids):  # all alike: a chain links them (most keys)
            for one, other in itertools.pairwise(ids):
                links[one].add(other)
                links[other].add(one)
            continue
        for one in ids:
            links[one].update(other for other in ids if other != one
                              and tuple(sorted((one, other))) not in marked)
    by_id, seen, groups = {record_.id: record_ for record_ in records}, set(), []
    for record_ in records:
        if record_.id in seen:
            continue
        group, todo = [], [record_.id]
        seen.add(record_.id)
        while todo:
            current = todo.pop()
            group.append(by_id[current])
            todo += [other for other in links[current] if other not in seen]
            seen.update(links[current])
        if len(group) > 1:
            groups.append(sorted(group, key=lambda r: r.id))
    return groups
