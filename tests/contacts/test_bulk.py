"""People written in bulk (an import's new people) are stored exactly as one created on the
page: the same columns, search and sort keys, tags, affiliation and audit entry; their ids
are taken in advance without clashing with anyone else's."""

import sqlite3

import pytest
import sqlalchemy as sa

from crm.audit.models import AuditEntry
from crm.contacts import services
from crm.contacts.models import Affiliation, Contact, ContactTag
from crm.core.sql import reserve_ids
from crm.extensions import db
from tests.factories import make_organisation, make_user

VOLATILE = {"id", "created_at", "updated_at"}


def data(organisation, **changes):
    return {"first_name": "Jürgen", "last_name": "Weiß", "academic_title": "Dr.",
            "email": "J.Weiss@Example.DE", "phone": "03641 650", "position": "Einkauf",
            "language": "de", "tags": ["Seoul", "Optik"], "source": "Messe",
            "affiliations": [{"organisation_id": organisation.id, "role": None,
                              "is_current": True}], **changes}


def columns(contact_id):
    row = db.session.execute(sa.select(Contact.__table__).where(
        Contact.id == contact_id)).mappings().one()
    return {name: value for name, value in row.items() if name not in VOLATILE}


def entry(contact_id):
    return db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.record_type == "contacts", AuditEntry.record_id == contact_id)).one()


@pytest.mark.parametrize("changes", [{}, {"first_name": "민정", "last_name": "김",
                                          "latin_name": "Kim Min-jung", "tags": []}])
def test_a_person_written_in_bulk_is_stored_as_one_created_alone(app, changes):
    actor = make_user()
    zeiss = make_organisation(name="Carl Zeiss AG")
    alone = services.create_contact(data(zeiss, **changes), actor=actor)
    clean = services.clean_new_contact(data(zeiss, **changes, email="other@example.de"),
                                       actor=actor)
    [(bulk_id, name)] = services.insert_contacts([clean], actor=actor)
    db.session.commit()
    assert name == str(alone)
    assert columns(bulk_id) == {**columns(alone.id), "email": "other@example.de",
                                "search_text": alone.search_text.replace(
                                    "j.weiss@example.de", "other@example.de")}
    bulk = db.session.get(Contact, bulk_id)
    assert bulk.tags == alone.tags
    assert [(a.organisation_id, a.role, a.is_current) for a in bulk.affiliations] == \
        [(a.organisation_id, a.role, a.is_current) for a in alone.affiliations]
    expected = {**entry(alone.id).changes, "email": [None, "other@example.de"]}
    assert (entry(bulk_id).action, entry(bulk_id).record_label, entry(bulk_id).changes) == \
        ("contact.create", str(alone), expected)


def test_many_people_in_bulk_get_their_own_rows_in_order(app):
    actor = make_user()
    cleaned = [services.clean_new_contact({"last_name": f"Müller {i}", "tags": [f"t{i}"]},
                                          actor=actor) for i in range(5)]
    people = services.insert_contacts(cleaned, actor=actor)
    db.session.commit()
    assert [name for _, name in people] == [f"Müller {i}" for i in range(5)]
    for i, (contact_id, _) in enumerate(people):
        assert db.session.get(Contact, contact_id).tags == [f"t{i}"]
    assert db.session.scalar(sa.select(sa.func.count(ContactTag.tag))) == 5
    assert db.session.scalar(sa.select(sa.func.count(Affiliation.id))) == 0
    assert services.insert_contacts([], actor=actor) == []


def test_reserved_ids_are_not_given_to_anyone_else(app):
    actor = make_user()
    services.create_contact({"last_name": "Erste"}, actor=actor)
    reserved = reserve_ids(Contact.__table__, 3)
    assert len(set(reserved)) == 3 and min(reserved) > db.session.scalar(
        sa.select(sa.func.max(Contact.id)).where(Contact.last_name == "Erste"))
    services.insert_contacts([services.clean_new_contact({"last_name": f"R{i}"}, actor=actor)
                              for i in range(3)], actor=actor)
    later = services.create_contact({"last_name": "Später"}, actor=actor)
    db.session.commit()
    assert later.id not in reserved
    assert db.session.scalar(sa.select(sa.func.count(Contact.id))) == 5


def test_on_sqlite_the_reserved_ids_stay_free_as_nobody_else_can_write(app):
    db.session.commit()
    reserved = reserve_ids(Contact.__table__, 2)
    if db.engine.dialect.name != "sqlite":
        assert len(set(reserved)) == 2  # taken from PostgreSQL's sequence: nobody gets them
        return
    other = sqlite3.connect(db.engine.url.database, timeout=0)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("INSERT INTO contact_tags (contact_id, tag) VALUES (1, 'x')")
    finally:
        other.close()
