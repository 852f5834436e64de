"""`crm generate`: fake data at any scale, the same for the same seed, as the services would
have left it (keys, stage rules, search index), with every page working on it."""

import pytest
import sqlalchemy as sa

from crm.activities.models import Activity
from crm.contacts import services as contact_services
from crm.contacts.models import Contact
from crm.core.fulltext import indexed_in_bulk
from crm.demo import generate
from crm.events.models import Attendance, Event
from crm.extensions import db
from crm.leads import rules
from crm.leads.models import Lead, Stage, StageChange, Status, lead_contacts
from crm.organisations.models import Organisation
from tests.factories import make_user

SIZES = generate.Sizes(organisations=60, contacts=300, events=3, leads=60, activities=900)


def count(column, *where):
    return db.session.scalar(sa.select(sa.func.count(column)).where(*where))


@pytest.fixture
def generated(app):
    return generate.generate(SIZES, seed=7)


def test_the_sizes_asked_for_are_written_with_what_belongs_to_them(generated):
    assert generated == {"organisations": 60, "contacts": 300, "events": 3, "leads": 60,
                         "activities": 900}
    assert (count(Organisation.id), count(Contact.id), count(Event.id), count(Lead.id),
            count(Activity.id)) == (60, 300, 3, 60, 900)
    assert count(Attendance.id) >= 3 * 20 and count(lead_contacts.c.lead_id) > 0
    assert count(StageChange.id) >= 60
    assert count(Activity.id, Activity.due_on.isnot(None)) > 0
    names = db.session.execute(sa.select(Contact.first_name, Contact.last_name,
                                         Contact.latin_name)).all()
    assert any("ü" in f + l or "ö" in f + l or "ß" in l for f, l, _ in names)
    assert any(l == "김" and latin.startswith("Kim") for _, l, latin in names), "Hangul"
    assert any(l == "张" and latin.startswith("Zhang") for _, l, latin in names), "Chinese"


def test_leads_are_in_every_stage_and_status_and_meet_their_stage(generated):
    leads = db.session.scalars(sa.select(Lead)).all()
    assert {lead.stage for lead in leads} == {stage.value for stage in Stage}
    assert {lead.status for lead in leads} == {status.value for status in Status}
    for lead in leads:
        assert not rules.missing_for(lead, lead.stage), lead.title
        assert (lead.status == Status.WON) == (lead.stage == Stage.WON)
        if lead.stage == Stage.WON:
            assert lead.won_confirmed_by_id not in (None, lead.owner_id)
    last = dict(db.session.execute(sa.select(Activity.lead_id, sa.func.max(
        Activity.occurred_at)).where(Activity.lead_id.isnot(None)).group_by(Activity.lead_id))
        .all())
    assert last and all(lead.last_activity_at == last.get(lead.id) for lead in leads)


def test_the_same_seed_gives_the_same_data(app):
    def sample():
        return db.session.execute(
            sa.select(Contact.first_name, Contact.last_name, Contact.phone)
            .order_by(Contact.id.desc()).limit(SIZES.contacts)).all()[::-1]

    generate.generate(SIZES, seed=3)
    first = sample()
    generate.generate(SIZES, seed=3)
    assert sample() == first
    generate.generate(SIZES, seed=4)
    assert sample() != first


def test_the_pages_and_the_search_work_on_it(generated, login):
    _, client = login("manager")
    for url in ("/contacts", "/organisations", "/events", "/leads", "/pipeline", "/reports",
                "/duplicates", f"/leads/{db.session.scalar(sa.select(sa.func.max(Lead.id)))}"):
        assert client.get(url).status_code == 200, url
    someone = db.session.scalars(sa.select(Contact).where(
        Contact.last_name == "Müller")).first()
    found = client.get("/search?q=mueller").get_data(as_text=True)
    assert someone is not None and f"/contacts/{someone.id}" in found
    # The index is kept by its triggers again afterwards.
    added = contact_services.create_contact({"last_name": "Zwölfgrün"}, actor=make_user())
    db.session.commit()
    assert f"/contacts/{added.id}" in client.get("/search?q=zwolfgrun").get_data(as_text=True)


def test_the_command_line_takes_sizes_and_refuses_bad_ones(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["crm", "generate", "--contacts", "40", "--activities", "50"])
    assert result.exit_code == 0, result.output
    assert "40 contacts" in result.output and "10 organisations" in result.output
    assert count(Activity.id) == 50
    refused = runner.invoke(args=["crm", "generate", "--contacts", "-5"])
    assert refused.exit_code == 2 and "--contacts" in refused.output
    assert count(Contact.id) == 40


def test_rows_indexed_in_bulk_go_with_a_failed_transaction(app):
    make_user()
    with pytest.raises(RuntimeError), indexed_in_bulk(Contact.__table__):
        contact_services.create_contact({"last_name": "Verloren"}, actor=None)
        raise RuntimeError("stopped")
    db.session.rollback()
    assert count(Contact.id) == 0
    added = contact_services.create_contact({"last_name": "Gefunden"}, actor=None)
    db.session.commit()
    found = db.session.scalars(sa.select(Contact.id).where(
        Contact.search_text.like("%gefunden%"))).all()
    assert found == [added.id]
    if db.engine.dialect.name == "sqlite":  # the trigger came back with the rollback
        assert db.session.scalar(sa.text(
            "SELECT count(*) FROM contacts_fts WHERE search_text LIKE '%gefunden%'")) == 1
