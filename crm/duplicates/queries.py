"""Finding records that are likely one: contacts with the same email or the same name (folded,
in any order), organisations with the same name once legal forms and spellings are aside."""

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
    groups = _apart(_connected(contacts, lambda c: [
        ("name", c.name_key), ("email", (c.email or "").lower() or None)]), "contacts")
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
    groups = _apart(_connected(organisations, lambda o: [("name", o.match_key)]),
                    "organisations")
    return [(group, ["name"]) for group in groups]


def _connected(records, keys):
    """The records in groups that share any key (a record may link two groups)."""
    owner, groups = {}, {}
    for record_ in records:
        found = {owner[key] for key in keys(record_) if key[1] and key in owner}
        group_id = min(found) if found else record_.id
        merged = [record_]
        for other_id in found:
            merged += groups.pop(other_id)
        groups[group_id] = merged
        for member in merged:
            for key in keys(member):
                if key[1]:
                    owner[key] = group_id
    return [sorted(group, key=lambda r: r.id) for group in groups.values() if len(group) > 1]


def _apart(groups, record_type):
    """The groups without the pairs marked as not one (`DistinctPair`): a group falls apart
    into the records still linked by a pair not marked, in one select."""
    ids = [record_.id for group in groups for record_ in group]
    marked = {tuple(pair) for pair in db.session.execute(
        sa.select(DistinctPair.first_id, DistinctPair.second_id).where(
            DistinctPair.record_type == record_type, DistinctPair.first_id.in_(ids)))}
    if not marked:
        return groups
    result = []
    for group in groups:
        left = list(group)
        while left:
            part, todo = [], [left.pop(0)]
            while todo:
                record_ = todo.pop()
                part.append(record_)
                linked = [other for other in left if tuple(sorted(
                    (record_.id, other.id))) not in marked]
                left = [other for other in left if other not in linked]
                todo += linked
            if len(part) > 1:
                result.append(sorted(part, key=lambda r: r.id))
    return result
