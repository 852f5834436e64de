"""Paging: every page of a list holds the rows a plain OFFSET would give, in the same order,
also when its rows are read in two steps (ids first, then the rows)."""

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from crm.contacts.models import Affiliation, Contact
from crm.core.lists import paginate
from crm.extensions import db
from crm.leads.models import Lead
from crm.organisations.models import Organisation
from tests.factories import make_contact, make_lead, make_organisation


def plain_page(query, page, per_page):
    return db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).unique().all()


def test_every_page_holds_what_an_offset_gives(app):
    organisation = make_organisation(name="Optik Jena GmbH")
    for number in range(23):
        make_contact(first_name="Anna", last_name=f"Müller {number % 7}", commit=False,
                     organisation=organisation if number % 2 else None)
    db.session.commit()
    deleted = make_contact(first_name="Gelöscht", last_name="Müller 0")
    deleted.deleted_at = deleted.created_at
    db.session.commit()
    query = (sa.select(Contact).where(Contact.deleted_at.is_(None))
             .options(selectinload(Contact.affiliations).joinedload(Affiliation.organisation))
             .order_by(Contact.name_sort.desc(), Contact.id))
    seen = []
    for page in (1, 2, 3, 4):
        pagination = paginate(query, page, 7)
        assert pagination.total == 23
        assert [c.id for c in pagination.items] == [c.id for c in plain_page(query, page, 7)]
        seen += pagination.items
    assert len({c.id for c in seen}) == 23 and deleted not in seen


def test_a_page_of_a_joined_and_filtered_list(app):
    organisations = [make_organisation(name=f"Firma {n}") for n in range(3)]
    for number in range(12):
        make_lead(title=f"Werk {number:02d}", organisation=organisations[number % 3])
    query = (sa.select(Lead).join(Organisation, Organisation.id == Lead.organisation_id)
             .where(Organisation.name != "Firma 1").order_by(Organisation.name_sort, Lead.id))
    second = paginate(query, 2, 3)
    assert second.total == 8
    assert [lead.id for lead in second.items] == [lead.id for lead in plain_page(query, 2, 3)]
    assert paginate(query, 9, 3).items == []


def test_a_page_of_a_list_joined_in_its_where_clause(app):
    """Tables named only in the conditions (no JOIN) stay the subquery's own: the ids of a
    later page are not tied to the row of the outer query."""
    organisation = make_organisation(name="Hyundai Mobis")
    for number in range(9):
        make_contact(first_name="민정", last_name=f"김 {number}", organisation=organisation)
    make_contact(last_name="Anderswo")
    query = (sa.select(Contact)
             .where(Contact.id == Affiliation.contact_id,
                    Affiliation.organisation_id == organisation.id)
             .order_by(Contact.name_sort, Contact.id))
    third = paginate(query, 3, 4)
    assert third.total == 9
    assert [c.id for c in third.items] == [c.id for c in plain_page(query, 3, 4)]
    assert len(third.items) == 1


def test_a_page_reads_its_rows_in_one_query(app, count_queries):
    for number in range(30):
        make_contact(first_name="Jörg", last_name=f"Kim {number}", commit=False)
    db.session.commit()
    with count_queries() as statements:
        page = paginate(sa.select(Contact).order_by(Contact.name_sort, Contact.id), 3, 10)
    # The count and the page (its ids chosen in a subquery of the same statement).
    assert len(page.items) == 10 and page.total == 30
    assert len(statements) == 2, statements
    rows = next(s for s in statements if "OFFSET" in s.upper())
    assert " IN (SELECT" in rows.upper()
