"""Undoing an import as a whole: the database is as before, unless someone has worked on its
people since (then nothing is undone and they are named); only the importer or an admin."""

import pytest
import sqlalchemy as sa

from crm.contacts import services as contact_services
from crm.contacts.models import Affiliation, Contact, ContactTag
from crm.core.services import ValidationError
from crm.events import services as event_services
from crm.events.models import Attendance
from crm.extensions import db
from crm.imports.models import ContactImport, ImportedRow
from crm.imports.reading import guess_mapping, read_table
from crm.imports.services import import_contacts, undo_import
from crm.organisations.models import Organisation
from crm.privacy import services as privacy_services
from tests.conftest import log_in
from tests.factories import make_activity, make_contact, make_event, make_organisation, make_user

LIST = (
    "Vorname;Nachname;E-Mail;Telefon;Position;Firma;Schlagworte\r\n"
    "Jürgen;Müller;j.mueller@jenoptik.example;+49 3641 650;Head of Sales;Carl Zeiss AG;Seoul\r\n"
    "민정;김;mj.kim@example.kr;;Director;Hyundai Mobis;Seoul\r\n"
    "Ji-ho;Park;jiho.park@example.kr;;Manager;LG Innotek;\r\n"
)


def state():
    """What an import can change, row by row, without versions and times."""
    return {
        "contacts": db.session.execute(sa.select(
            Contact.id, Contact.first_name, Contact.last_name, Contact.email, Contact.phone,
            Contact.position, Contact.search_text, Contact.deleted_at).order_by(Contact.id)).all(),
        "tags": db.session.execute(sa.select(ContactTag.contact_id, ContactTag.tag)
                                   .order_by(ContactTag.contact_id, ContactTag.tag)).all(),
        "affiliations": db.session.execute(sa.select(
            Affiliation.contact_id, Affiliation.organisation_id, Affiliation.is_current)
            .order_by(Affiliation.contact_id, Affiliation.organisation_id)).all(),
        "attendances": db.session.execute(sa.select(
            Attendance.event_id, Attendance.contact_id, Attendance.status)
            .order_by(Attendance.event_id, Attendance.contact_id)).all(),
        "organisations": db.session.execute(sa.select(
            Organisation.id, Organisation.name, Organisation.deleted_at)
            .order_by(Organisation.id)).all(),
    }


@pytest.fixture
def before(app):
    """Jürgen Müller known already (at Jenoptik, invited to the breakfast), and the breakfast."""
    importer = make_user(name="Lea Schäfer")
    jenoptik = make_organisation(name="Jenoptik AG")
    mueller = make_contact(first_name="Jürgen", last_name="Müller", organisation=jenoptik,
                           email="j.mueller@jenoptik.example", position="Vertrieb",
                           tags=["Optik"])
    breakfast = make_event(name="Business Breakfast Seoul", starts_on="2025-05-20")
    event_services.set_attendance(breakfast, mueller, "invited", actor=importer)
    db.session.commit()
    return {"importer": importer, "mueller": mueller, "breakfast": breakfast,
            "state": state()}


def run_import(before, text=LIST):
    table = read_table("scan.csv", text.encode("utf-8"))
    outcome = import_contacts(table, guess_mapping(table.header), actor=before["importer"],
                              filename="scan.csv", event=before["breakfast"], status="met")
    db.session.commit()
    return outcome.contact_import


def test_undo_leaves_the_database_as_before(before):
    done = run_import(before)
    assert done.counts == {"created": 2, "updated": 1, "unchanged": 0, "failed": 0, "empty": 0}
    after = state()
    assert after != before["state"]
    assert len(after["organisations"]) == 4  # Zeiss, Hyundai Mobis and LG Innotek are new
    assert ("Seoul" in {t.tag for t in after["tags"]})

    removed, restored = undo_import(done, actor=before["importer"])
    db.session.commit()
    assert (removed, restored) == (2, 1)
    assert state() == before["state"]
    assert done.undone_at is not None and done.undone_by_id == before["importer"].id
    assert db.session.scalar(sa.select(sa.func.count()).where(
        sa.text("action = 'contacts.import_undo'")).select_from(sa.table("audit_entries"))) == 1


def test_after_an_undo_the_same_list_can_be_imported_again(before):
    undo_import(run_import(before), actor=before["importer"])
    db.session.commit()
    again = run_import(before)
    assert again.counts["created"] == 2 and again.counts["failed"] == 0


def test_an_undo_is_refused_when_someone_changed_a_person_since(before):
    done = run_import(before)
    park = db.session.scalar(sa.select(Contact).where(Contact.email == "jiho.park@example.kr"))
    contact_services.update_contact(park, {"position": "CEO"}, actor=None)
    db.session.commit()
    changed = state()
    with pytest.raises(ValidationError) as refused:
        undo_import(done, actor=before["importer"])
    db.session.rollback()
    assert "Ji-ho Park" in str(refused.value.message)
    assert state() == changed and done.undone_at is None


def test_an_undo_is_refused_when_a_new_person_got_a_note(before):
    done = run_import(before)
    kim = db.session.scalar(sa.select(Contact).where(Contact.email == "mj.kim@example.kr"))
    make_activity(actor=before["importer"], subject=kim, body="Rückruf vereinbart")
    with pytest.raises(ValidationError) as refused:
        undo_import(done, actor=before["importer"])
    assert "김민정" in str(refused.value.message)


def test_an_organisation_the_import_created_stays_when_someone_else_uses_it(before):
    done = run_import(before)
    mobis = db.session.scalar(sa.select(Organisation).where(Organisation.name == "Hyundai Mobis"))
    other = make_contact(first_name="Soo-ah", last_name="Lee", organisation=mobis)
    undo_import(done, actor=before["importer"])
    db.session.commit()
    assert db.session.get(Organisation, mobis.id) is not None
    assert db.session.get(Contact, other.id) is not None
    assert db.session.scalar(sa.select(Organisation).where(
        Organisation.name == "LG Innotek")) is None


def test_only_the_importer_or_an_admin_may_undo_and_only_once(before):
    done = run_import(before)
    with pytest.raises(ValidationError):
        undo_import(done, actor=make_user(name="Kollege"))
    undo_import(done, actor=make_user(role="admin"))
    db.session.commit()
    with pytest.raises(ValidationError):
        undo_import(done, actor=before["importer"])


def test_an_erasure_removes_what_the_import_kept_on_the_person(before):
    done = run_import(before)
    mueller = before["mueller"]
    assert db.session.scalar(sa.select(ImportedRow.before).where(
        ImportedRow.contact_id == mueller.id))["position"] == "Vertrieb"
    privacy_services.erase_contact(mueller, actor=make_user(role="admin"), confirmed=True)
    db.session.commit()
    assert db.session.scalar(sa.select(ImportedRow).where(
        ImportedRow.contact_id == mueller.id)) is None
    removed, restored = undo_import(done, actor=before["importer"])  # the others still go
    assert (removed, restored) == (2, 0)


def test_a_preview_keeps_no_import(before):
    table = read_table("scan.csv", LIST.encode("utf-8"))
    import_contacts(table, guess_mapping(table.header), actor=before["importer"],
                    filename="scan.csv")
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(ContactImport.id))) == 0


def test_the_page_of_earlier_imports_and_its_undo_button(app, before):
    done = run_import(before)
    client = log_in(app.test_client(), before["importer"])
    html = client.get("/imports/history").get_data(as_text=True)
    assert "scan.csv" in html and "Business Breakfast Seoul" in html and "neu: 2" in html
    assert f'action="/imports/history/{done.id}/undo"' in html

    other = log_in(app.test_client(), make_user(name="Kollege"))
    assert f"/imports/history/{done.id}/undo" not in other.get("/imports/history").get_data(
        as_text=True)
    assert other.post(f"/imports/history/{done.id}/undo").status_code == 403
    assert client.post("/imports/history/999999/undo").status_code == 404

    response = client.post(f"/imports/history/{done.id}/undo")
    assert response.status_code == 303
    html = client.get("/imports/history").get_data(as_text=True)
    assert "rückgängig gemacht" in html.lower() and "2 Personen entfernt" in html
    assert f'action="/imports/history/{done.id}/undo"' not in html
    assert state() == before["state"]
    again = client.post(f"/imports/history/{done.id}/undo")
    assert again.status_code == 303
    assert "bereits rückgängig gemacht" in client.get("/imports/history").get_data(as_text=True)


def test_a_refused_undo_says_why_on_the_page(app, before):
    done = run_import(before)
    park = db.session.scalar(sa.select(Contact).where(Contact.email == "jiho.park@example.kr"))
    contact_services.update_contact(park, {"position": "CEO"}, actor=None)
    db.session.commit()
    client = log_in(app.test_client(), before["importer"])
    client.post(f"/imports/history/{done.id}/undo")
    html = client.get("/imports/history").get_data(as_text=True)
    assert "Seit dem Import geändert: Ji-ho Park" in html


def test_a_person_in_two_rows_gets_back_what_they_had_before_the_first(before):
    twice = ("E-Mail;Telefon;Position\r\n"
             "j.mueller@jenoptik.example;+49 3641 650;\r\n"
             "j.mueller@jenoptik.example;;Head of Sales\r\n")
    done = run_import(before, twice)
    mueller = before["mueller"]
    assert (mueller.phone, mueller.position) == ("+493641650", "Head of Sales")
    assert undo_import(done, actor=before["importer"]) == (0, 1)
    db.session.commit()
    assert state() == before["state"]
