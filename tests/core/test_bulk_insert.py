"""Rows written in bulk (`crm.core.sql.insert_many`: an import's new people, their tags,
affiliations, attendances and audit entries) come back as the ORM would have stored them, are
found by the search, and on SQLite take a statement per many rows, not one per row."""

import sqlite3
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from crm.audit.models import AuditEntry
from crm.contacts.models import Contact, ContactTag
from crm.core import fulltext
from crm.core.sql import insert_many, reserve_ids
from crm.extensions import db
from tests.factories import make_user

MOMENT = datetime(2026, 12, 7, 1, 30, 15, 123456, tzinfo=UTC)


def contact_row(contact_id, first_name, last_name, **changes):
    return {"id": contact_id, "first_name": first_name, "last_name": last_name,
            "latin_name": None, "email": None, "legal_basis": "consent",
            "name_sort": last_name.lower(),
            "search_text": f"{first_name} {last_name}".lower(), "name_key": last_name.lower(),
            "created_at": MOMENT, "updated_at": MOMENT, "version": 1,
            "marketing_consent": False, "do_not_contact": False, "informed_on": None,
            **changes}


def test_values_come_back_as_the_orm_stores_them(app):
    user = make_user()
    first, second = reserve_ids(Contact.__table__, 2)
    insert_many(Contact.__table__, [
        contact_row(first, "Jürgen", "Weiß", marketing_consent=True,
                    informed_on=date(2025, 5, 20), email="j.weiss@example.de"),
        contact_row(second, "민준", "김", latin_name="Kim Min-jun", do_not_contact=True)])
    changes = {"first_name": [None, "Jürgen"], "tags": [None, ["Seoul", "Optik"]]}
    insert_many(AuditEntry.__table__, [
        {"created_at": MOMENT, "actor_id": user.id, "action": "contact.create",
         "record_type": "contacts", "record_id": first, "record_label": "Jürgen Weiß",
         "changes": changes, "via": None},
        {"created_at": MOMENT, "actor_id": None, "action": "contact.create",
         "record_type": "contacts", "record_id": second, "record_label": "김민준",
         "changes": None, "via": "Sync (lotse_ab12)"}])
    db.session.commit()
    db.session.expire_all()
    weiss, kim = db.session.get(Contact, first), db.session.get(Contact, second)
    assert (weiss.first_name, weiss.last_name, weiss.email) == ("Jürgen", "Weiß",
                                                                 "j.weiss@example.de")
    assert (weiss.marketing_consent, weiss.do_not_contact, weiss.informed_on) == \
        (True, False, date(2025, 5, 20))
    assert weiss.created_at == MOMENT and weiss.created_at.tzinfo is not None
    assert (kim.first_name, kim.last_name, kim.latin_name, kim.do_not_contact,
            kim.informed_on) == ("민준", "김", "Kim Min-jun", True, None)
    entries = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.record_type == "contacts", AuditEntry.record_id.in_([first, second]))
        .order_by(AuditEntry.record_id)).all()
    assert [(e.actor_id, e.record_label, e.changes, e.via, e.created_at) for e in entries] == [
        (user.id, "Jürgen Weiß", changes, None, MOMENT),
        (None, "김민준", None, "Sync (lotse_ab12)", MOMENT)]


def raw(table, record_id):
    """A row as the database holds it, read past SQLAlchemy's types."""
    return db.session.connection().exec_driver_sql(
        f"SELECT * FROM {table} WHERE id = {int(record_id)}").one()[1:]


@pytest.mark.parametrize("changes", [None, {"email": [None, "a@example.de"], "tags": [None, []]}])
def test_a_row_is_stored_byte_for_byte_as_the_orm_stores_it(app, changes):
    user = make_user()
    values = {"created_at": MOMENT, "actor_id": user.id, "action": "contact.create",
              "record_type": "contacts", "record_id": 7, "record_label": "Jürgen Weiß",
              "changes": changes, "via": None}
    by_orm = AuditEntry(**values)
    db.session.add(by_orm)
    db.session.flush()
    insert_many(AuditEntry.__table__, [values])
    bulk_id = db.session.scalar(sa.select(sa.func.max(AuditEntry.id)))
    assert bulk_id != by_orm.id
    assert raw("audit_entries", bulk_id) == raw("audit_entries", by_orm.id)


def test_an_error_of_the_database_is_raised_as_sqlalchemys(app):
    """The error pages answer SQLAlchemy's errors (409 for a conflict, 503 for a full disk):
    a bulk write's errors are those, on PostgreSQL's COPY too."""
    with pytest.raises(sa.exc.IntegrityError):
        insert_many(ContactTag.__table__, [{"contact_id": 999_999, "tag": "Seoul"}])
    db.session.rollback()


def test_rows_written_in_bulk_are_found_by_the_search(app):
    ids = reserve_ids(Contact.__table__, 3)
    insert_many(Contact.__table__, [
        contact_row(ids[0], "Ana", "Wójcik", search_text="ana wojcik"),
        contact_row(ids[1], "민준", "김", search_text="민준 김 kim min-jun"),
        contact_row(ids[2], "Jürgen", "Müller", search_text="jurgen muller")])
    db.session.commit()
    for q, expected in (("wojcik", ids[0]), ("김", ids[1]), ("min-jun", ids[1]),
                        ("müller", ids[2]), ("mueller", ids[2])):
        found = db.session.scalars(sa.select(Contact.id).where(
            *fulltext.matching_words(Contact.search_text, q))).all()
        assert found == [expected], q


def test_many_rows_take_few_statements_on_sqlite(app, count_queries):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("only on SQLite: PostgreSQL reads the rows with one COPY")
    ids = reserve_ids(Contact.__table__, 3_000)
    rows = [contact_row(i, "Test", f"Person {i}") for i in ids]
    with count_queries() as statements:
        insert_many(Contact.__table__, rows)
    inserts = [s for s in statements if s.startswith("INSERT")]
    # As many rows a statement as SQLite's limit of parameters allows (32,766 since 3.32).
    per = db.session.connection().connection.driver_connection.getlimit(
        sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // len(rows[0])
    assert per > 1_000
    assert len(inserts) == -(-len(rows) // per) <= 3
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 3_000
    assert db.session.scalar(sa.select(sa.func.max(Contact.id))) == ids[-1]


def test_rows_must_name_the_same_columns(app):
    ids = reserve_ids(Contact.__table__, 2)
    with pytest.raises(ValueError, match="same columns"):
        insert_many(Contact.__table__, [contact_row(ids[0], "Test", "Eins"),
                                        {**contact_row(ids[1], "Test", "Zwei"), "source": "x"}])


def test_nothing_to_write_runs_no_statement(app, count_queries):
    with count_queries() as statements:
        insert_many(ContactTag.__table__, [])
    assert statements == []


def test_a_bulk_write_is_undone_with_its_transaction(app):
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Contact))
    ids = reserve_ids(Contact.__table__, 2)
    insert_many(Contact.__table__, [contact_row(i, "Test", f"Person {i}") for i in ids])
    insert_many(ContactTag.__table__, [{"contact_id": i, "tag": "Seoul"} for i in ids])
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ContactTag)) == 0
