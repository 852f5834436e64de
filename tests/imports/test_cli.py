"""`flask crm import FILE`: people and organisations from a badge scanner's or a partner's
list, matched with those who exist; all or nothing unless told otherwise."""

import sqlalchemy as sa

from crm.audit.models import AuditEntry
from crm.contacts.models import Contact
from crm.events.models import Attendance
from crm.extensions import db
from crm.organisations.models import Organisation
from tests.factories import make_contact, make_event, make_organisation

BADGE_SCANNER = (
    "Vorname;Nachname;Firma;E-Mail;Position;Telefon\r\n"
    "Jürgen;Weiß;Jenoptik AG;jw@example.de;CFO;0361 123456\r\n"
    "Min-jung;Kim;Hanwha Sensorik;mj.kim@example.kr;Head of Investment;+82 2 2123 4567\r\n"
    "Lea;Lang;Jenoptik;;;\r\n"
)


def run(app, tmp_path, text, *args, name="scanner.csv", encoding="cp1252"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    result = app.test_cli_runner().invoke(
        args=["crm", "import", str(path), *args])
    db.session.expire_all()
    return result


def count(model):
    return db.session.scalar(sa.select(sa.func.count(model.id)))


def test_a_badge_scanner_list_creates_people_and_organisations_at_the_event(app, tmp_path):
    event = make_event(name="Business Breakfast Seoul", starts_on="2025-05-20")
    make_organisation(name="Jenoptik AG")
    result = run(app, tmp_path, BADGE_SCANNER, "--event", str(event.id),
                 "--source", "Badge-Scanner")
    assert result.exit_code == 0, result.output + result.stderr
    assert "Imported: 3 created, 0 updated, 0 unchanged, 0 failed, 0 empty." in result.output
    people = {c.email: c for c in db.session.scalars(sa.select(Contact))}
    assert people["jw@example.de"].phone == "+49361123456"
    assert people["jw@example.de"].source == "Badge-Scanner"
    assert [a.organisation.name for a in people["jw@example.de"].affiliations] == ["Jenoptik AG"]
    lea = next(c for c in people.values() if c.last_name == "Lang")
    assert [a.organisation.name for a in lea.affiliations] == ["Jenoptik AG"], "legal form aside"
    assert count(Organisation) == 2
    assert {a.status for a in db.session.scalars(sa.select(Attendance))} == {"met"}
    assert count(Attendance) == 3
    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "contacts.import")).one()
    assert entry.record_label == "scanner.csv" and entry.changes["created"] == [None, 3]


def test_people_who_exist_are_updated_not_doubled(app, tmp_path):
    firm = make_organisation(name="Jenoptik AG")
    by_email = make_contact(first_name="J.", last_name="Weiss", email="jw@example.de")
    by_name = make_contact(first_name="Lea", last_name="Lang", organisation=firm,
                           position="Vertrieb")
    result = run(app, tmp_path, BADGE_SCANNER)
    assert result.exit_code == 0, result.output + result.stderr
    assert "1 created, 1 updated, 1 unchanged" in result.output, "Lea's row says nothing new"
    assert count(Contact) == 3
    db.session.refresh(by_email)
    assert (by_email.first_name, by_email.position) == ("Jürgen", "CFO")
    assert [a.organisation.name for a in by_email.affiliations] == ["Jenoptik AG"]
    assert db.session.get(Contact, by_name.id).position == "Vertrieb", "empty cells keep values"
    assert [a.organisation_id for a in db.session.get(Contact, by_name.id).affiliations] == [
        firm.id]
    again = run(app, tmp_path, BADGE_SCANNER)
    assert "0 created, 0 updated, 3 unchanged" in again.output


def test_a_dry_run_saves_nothing(app, tmp_path):
    result = run(app, tmp_path, BADGE_SCANNER, "--dry-run")
    assert result.exit_code == 0
    assert "Dry run, nothing saved: 3 created" in result.output
    assert count(Contact) == count(Organisation) == 0
    assert count(AuditEntry) == 0


def test_a_bad_row_stops_the_whole_import_unless_told_to_skip_it(app, tmp_path):
    text = BADGE_SCANNER + "Kaputt;Adresse;Neue Firma GmbH;keine-mail;;\r\n"
    result = run(app, tmp_path, text)
    assert result.exit_code == 1
    assert "Row 5: email:" in result.stderr
    assert "Nothing imported, 1 rows cannot be read" in result.stderr
    assert count(Contact) == count(Organisation) == 0
    skipped = run(app, tmp_path, text, "--skip-invalid")
    assert skipped.exit_code == 0
    assert "3 created, 0 updated, 0 unchanged, 1 failed" in skipped.output
    assert count(Contact) == 3
    assert "Neue Firma GmbH" not in db.session.scalars(sa.select(Organisation.name)).all(), \
        "the bad row's new organisation went with it"


def test_an_excel_list_and_english_headers(app, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    for row in (["First Name", "Last Name", "Company", "Email"],
                ["민정", "김", "Hanwha", "mj@example.kr"]):
        workbook.active.append(row)
    workbook.save(tmp_path / "partner.xlsx")
    result = app.test_cli_runner().invoke(
        args=["crm", "import", str(tmp_path / "partner.xlsx")])
    assert result.exit_code == 0, result.output + result.stderr
    person = db.session.scalars(sa.select(Contact)).one()
    assert (person.first_name, person.last_name, person.email) == ("민정", "김", "mj@example.kr")


def test_files_that_are_no_list_of_people_are_refused_by_name(app, tmp_path):
    assert "leer" in run(app, tmp_path, "").stderr
    no_person = run(app, tmp_path, "Spalte A;Spalte B\r\n1;2\r\n")
    assert no_person.exit_code == 1 and "No column names a person" in no_person.stderr
    missing = run(app, tmp_path, BADGE_SCANNER, "--event", "999999")
    assert missing.exit_code == 1 and "There is no event 999999" in missing.stderr
    assert count(Contact) == 0
