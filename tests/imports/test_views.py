"""Importing in the browser: upload, a preview of every row with the columns to correct,
then the import; bad files refused beside the field; one's own uploads only."""

import io
import re

import sqlalchemy as sa

from crm.audit.models import AuditEntry
from crm.contacts.models import Contact
from crm.events.models import Attendance
from crm.extensions import db
from crm.imports.models import ImportUpload
from crm.imports.reading import MAX_BROWSER_ROWS
from tests.auth.test_views import field_error
from tests.factories import make_event

SCANNER = ("Vorname;Nachname;Firma;Mail-Adresse\r\n"
           "Jürgen;Weiß;Jenoptik AG;jw@example.de\r\n"
           "Min-jung;Kim;Hanwha Sensorik;mj.kim@example.kr\r\n")


def upload(client, text, *, name="scanner.csv", encoding="cp1252", **fields):
    return client.post("/imports/new", data={
        "file": (io.BytesIO(text.encode(encoding)), name), **fields},
        content_type="multipart/form-data")


def count(model):
    return db.session.scalar(sa.select(sa.func.count(model.id)))


def test_upload_preview_correct_a_column_and_import_at_the_event(login):
    _, client = login("member")
    event = make_event(name="Business Breakfast Seoul", starts_on="2025-05-20")
    response = upload(client, SCANNER, event_id=str(event.id), status="met")
    assert response.status_code == 302
    preview_url = response.headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    assert "„scanner.csv“ importieren" in page
    assert re.search(r'<select[^>]*name="col0">.*?<option value="first_name" selected>', page,
                     re.DOTALL)
    assert not re.search(r'name="col3">.*?value="email" selected', page, re.DOTALL), \
        "'Mail-Adresse' is not a known name"
    assert "neu: 2" in page
    assert count(Contact) == 0, "the preview saves nothing"

    corrected = {"col0": "first_name", "col1": "last_name", "col2": "organisation",
                 "col3": "email"}
    page = client.get(preview_url, query_string=corrected).get_data(as_text=True)
    assert re.search(r'name="col3">.*?<option value="email" selected>', page, re.DOTALL)
    response = client.post(preview_url, data={**corrected, "action": "import"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/contacts?event={event.id}"
    assert sorted(db.session.scalars(sa.select(Contact.email))) == [
        "jw@example.de", "mj.kim@example.kr"]
    assert count(Attendance) == 2
    assert count(ImportUpload) == 0, "the file is not kept after the import"
    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "contacts.import")).one()
    assert entry.record_label == "scanner.csv" and entry.changes["created"] == [None, 2]
    listed = client.get(f"/contacts?event={event.id}").get_data(as_text=True)
    assert "„scanner.csv“ importiert: 2 neu" in listed


def test_rows_that_cannot_be_read_stop_the_import_until_left_out(login):
    _, client = login("member")
    text = SCANNER.replace("Mail-Adresse", "E-Mail") + "Kaputt;Adresse;;keine-mail\r\n"
    preview_url = upload(client, text).headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    assert "1 Zeile ist nicht lesbar" in page and "nicht lesbar" in page
    problems = client.get(f"{preview_url}/problems.csv")
    rows = problems.data.decode("utf-8-sig").splitlines()
    assert rows[0].startswith("Zeile;Problem;Vorname") and rows[1].startswith("4;E-Mail-Adresse")
    refused = client.post(preview_url, data={"action": "import"})
    assert refused.status_code == 422
    assert count(Contact) == 0
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(
        AuditEntry.action == "contacts.import")) == 0
    done = client.post(preview_url, data={"action": "import", "skip_invalid": "1"})
    assert done.status_code == 302
    assert count(Contact) == 2


def test_a_problem_names_the_row_of_the_file_whatever_blank_lines_come_before(login):
    _, client = login("member")
    header, *rows = SCANNER.replace("Mail-Adresse", "E-Mail").split("\r\n")
    text = "\r\n".join(["", header, "", *rows[:1], "", "Kaputt;Adresse;;keine-mail", ""])
    preview_url = upload(client, text).headers["Location"]
    problems = client.get(f"{preview_url}/problems.csv").data.decode("utf-8-sig").splitlines()
    assert problems[1].startswith("6;E-Mail-Adresse") and "Kaputt" in problems[1]


def test_a_bad_file_is_refused_beside_the_field_and_nothing_is_kept(login):
    _, client = login("member")
    for data, message in ((b"", "Die Datei ist leer."),
                          (b"\x89PNG\r\n\x1a\n\x00\x00", "keine Tabelle"),
                          (b"Name;Ort\r\nM\x81ller;\x8dErfurt\r\n", "Zeichenkodierung")):
        response = client.post("/imports/new", data={"file": (io.BytesIO(data), "liste.csv")},
                               content_type="multipart/form-data")
        assert response.status_code == 422
        assert message in field_error(response.get_data(as_text=True), "file")
    response = client.post("/imports/new", data={}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Wählen Sie eine Datei." in field_error(response.get_data(as_text=True), "file")
    assert count(ImportUpload) == 0


def test_columns_that_name_nobody_ask_to_be_chosen(login):
    _, client = login("member")
    preview_url = upload(client, "Spalte A;Spalte B\r\nKim;kim@example.kr\r\n").headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    assert "Keine Spalte wird als Name oder E-Mail-Adresse gelesen" in page
    assert client.post(preview_url, data={"action": "import"}).status_code == 422
    done = client.post(preview_url, data={"col0": "last_name", "col1": "email",
                                          "action": "import"})
    assert done.status_code == 302
    assert db.session.scalars(sa.select(Contact.email)).all() == ["kim@example.kr"]


def test_an_upload_is_its_uploaders_only_and_can_be_discarded(login):
    _, owner = login("member")
    preview_url = upload(owner, SCANNER).headers["Location"]
    _, other = login("admin")
    assert other.get(preview_url).status_code == 404
    assert other.post(preview_url, data={"action": "import"}).status_code == 404
    assert other.get(f"{preview_url}/problems.csv").status_code == 404
    assert count(Contact) == 0
    assert owner.post(f"{preview_url}/discard").status_code == 302
    assert count(ImportUpload) == 0
    assert owner.get(preview_url).status_code == 404


def test_what_an_import_must_not_do(login):
    """An organisation cell that looks like an id is a name; the email of a deleted contact
    is a problem, not a new person; problems.csv keeps formulas as text; a deleted event stops
    the import."""
    from crm.contacts import services as contact_services
    from tests.factories import make_contact, make_organisation

    admin, client = login("admin")
    existing = make_organisation(name="Erste GmbH")
    gone = make_contact(first_name="Ist", last_name="Weg", email="weg@example.de")
    contact_services.delete_contact(gone, actor=admin)
    db.session.commit()
    text = (f"Vorname;Nachname;Firma;E-Mail\r\nA;B;{existing.id};a@example.de\r\n"
            "C;D;;weg@example.de\r\n=1+1;E;;=HYPERLINK(1)\r\n")
    preview_url = upload(client, text).headers["Location"]
    problems = client.get(f"{preview_url}/problems.csv").data.decode("utf-8-sig").splitlines()
    assert [line.split(";")[0] for line in problems[1:]] == ["3", "4"]
    assert "gelöschter Kontakt" in problems[1]
    assert ";'=1+1;E;;'=HYPERLINK(1)" in problems[2]
    client.post(preview_url, data={"action": "import", "skip_invalid": "1"})
    person = db.session.scalars(sa.select(Contact).where(Contact.email == "a@example.de")).one()
    assert [a.organisation.name for a in person.affiliations] == [str(existing.id)]

    event = make_event(name="Abgesagt")
    preview_url = upload(client, SCANNER, event_id=str(event.id)).headers["Location"]
    from crm.events import services as event_services

    event_services.delete_event(event, actor=admin)
    db.session.commit()
    page = client.get(preview_url).get_data(as_text=True)
    assert "Die Veranstaltung wurde gelöscht" in page
    assert client.post(preview_url, data={"action": "import"}).status_code == 422
    assert count(Attendance) == 0


def test_large_files_go_through_the_command_line_and_old_uploads_are_not_kept(login):
    from datetime import timedelta

    from crm.core.models import utcnow

    _, client = login("member")
    rows = "".join(f"Gast;Nummer {n}\r\n" for n in range(MAX_BROWSER_ROWS + 1))
    response = upload(client, "Vorname;Nachname\r\n" + rows)
    assert response.status_code == 422
    assert "flask crm import" in field_error(response.get_data(as_text=True), "file")
    upload(client, SCANNER)
    old = db.session.scalars(sa.select(ImportUpload)).one()
    old.created_at = utcnow() - timedelta(days=2)
    db.session.commit()
    response = upload(client, SCANNER)
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    db.session.expire_all()
    (kept,) = db.session.scalars(sa.select(ImportUpload)).all()
    assert kept.created_at > utcnow() - timedelta(hours=1), "the old one went, the new stays"
