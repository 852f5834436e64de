"""A large file in the browser: checked and imported in the background, part by part, with a
progress bar, while others go on saving; an import that has to stop leaves nothing behind."""

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from crm.audit.models import AuditEntry
from crm.contacts import services as contact_services
from crm.contacts.models import Contact
from crm.core.models import utcnow
from crm.core.services import ValidationError
from crm.events.models import Attendance
from crm.extensions import db
from crm.imports import jobs
from crm.imports.models import ContactImport, ImportedRow, ImportUpload, Job
from crm.imports.reading import RawTable, guess_mapping, read_table
from crm.imports.services import import_contacts
from tests.factories import make_event
from tests.imports.test_views import count, upload

ROWS = jobs.LARGE_FILE_ROWS + 1_500  # three parts of 2,000 rows and one of 500


def fair_list(rows=ROWS, broken=()):
    lines = ["Vorname;Nachname;E-Mail;Firma"]
    for n in range(rows):
        email = "kaputt" if n in broken else f"gast{n}@example.kr"
        lines.append(f"Jürgen;Müller {n};{email};Firma {n % 40} GmbH")
    return "\r\n".join(lines) + "\r\n"


def wait_for(client, preview_url, timeout=180):
    """Ask for the progress as the page does until the job is done; where the page goes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"{preview_url}/progress")
        if response.status_code == 204:
            return response.headers["HX-Redirect"]
        assert response.status_code == 200 and b"<progress" in response.data
        time.sleep(0.2)
    raise AssertionError("the background job did not finish")


def test_a_large_file_is_checked_then_imported_in_the_background(login):
    _, client = login("member")
    event = make_event(name="Business Breakfast Seoul", starts_on="2025-05-20")
    db.session.commit()
    preview_url = upload(client, fair_list(), encoding="utf-8",
                         event_id=str(event.id), status="met").headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    assert "im Hintergrund" in page and "Alle Zeilen mit diesen Spalten prüfen" in page
    assert "Was der Import tut" not in page, "nothing is checked within the request"
    refused = client.post(preview_url, data={"action": "import"})
    assert refused.status_code == 422 and count(Contact) == 0

    checking = client.post(preview_url, data={"action": "check"})
    assert checking.status_code == 303
    back = wait_for(client, preview_url)
    page = client.get(back).get_data(as_text=True)
    assert "neu: 6.500" in page and "Müller 99" in page
    assert count(Contact) == 0 and count(ContactImport) == 0, "a check saves nothing"

    assert client.post(preview_url, data={"action": "import"}).status_code == 303
    # The last look at the progress finishes the import and leads to the people; a look
    # already on its way finds the upload gone and leads to the contacts too.
    target = wait_for(client, preview_url)
    assert target.startswith("/contacts") and f"event={event.id}" in target
    late = client.get(f"{preview_url}/progress")
    assert late.status_code == 404 and late.headers["HX-Redirect"] == "/contacts"
    listed = client.get(target).get_data(as_text=True)
    assert "„scanner.csv“ importiert: 6500 neu" in listed
    assert count(Contact) == ROWS and count(Attendance) == ROWS
    (contact_import,) = db.session.scalars(sa.select(ContactImport)).all()
    assert contact_import.counts["created"] == ROWS and len(contact_import.rows) == ROWS
    (entry,) = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "contacts.import")).all()
    assert entry.changes["created"] == [None, ROWS] and entry.record_id == contact_import.id
    assert count(ImportUpload) == 0, "the file is not kept once imported"


def test_others_save_while_a_large_file_is_imported(login):
    """Each part of the import is a transaction of its own: a colleague's saves go in between
    them (on SQLite, too, where one writer at a time holds the database)."""
    _, client = login("member")
    _, colleague = login("member")
    preview_url = upload(client, fair_list(), encoding="utf-8").headers["Location"]
    client.post(preview_url, data={"action": "check"})
    wait_for(client, preview_url)
    client.post(preview_url, data={"action": "import"})
    saved, running, deadline = [], True, time.monotonic() + 180
    while running and time.monotonic() < deadline:
        response = colleague.post("/contacts/new", data={
            "last_name": f"Berg {len(saved)}", "legal_basis": "public_task"})
        assert response.status_code == 302
        saved.append(int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1]))
        db.session.expire_all()
        running = jobs.is_running(db.session.scalars(sa.select(ImportUpload)).one())
    wait_for(client, preview_url)
    imported = db.session.scalars(sa.select(ImportedRow.contact_id)).all()
    assert len(imported) == ROWS
    # (On PostgreSQL ids come from a sequence, so this holds however the import locks; there
    # a writer never waits for another's inserts into other rows.)
    assert any(min(imported) < contact_id < max(imported) for contact_id in saved), \
        "a colleague's save went in while the import was under way"


def test_rows_that_cannot_be_read_are_listed_and_left_out_when_asked(login):
    _, client = login("member")
    preview_url = upload(client, fair_list(broken={3, 4_321}), encoding="utf-8")\
        .headers["Location"]
    client.post(preview_url, data={"action": "check"})
    page = client.get(wait_for(client, preview_url)).get_data(as_text=True)
    assert "2 Zeilen sind nicht lesbar" in page
    problems = client.get(f"{preview_url}/problems.csv?col0=first_name&col1=last_name"
                          "&col2=email&col3=organisation")
    lines = problems.data.decode("utf-8-sig").splitlines()
    assert [line.split(";")[0] for line in lines[1:]] == ["5", "4323"]
    assert client.post(preview_url, data={"action": "import"}).status_code == 422
    client.post(preview_url, data={"action": "import", "skip_invalid": "1"})
    client.get(wait_for(client, preview_url))
    assert count(Contact) == ROWS - 2


def test_an_import_stopped_by_a_row_is_undone_as_a_whole(login):
    user, client = login("member")
    preview_url = upload(client, fair_list(), encoding="utf-8").headers["Location"]
    client.post(preview_url, data={"action": "check"})
    wait_for(client, preview_url)
    # After the check, someone deletes a person with the email of row 5,002: a problem now.
    gone = contact_services.create_contact({"last_name": "Alt", "email": "gast5000@example.kr"},
                                           actor=user)
    contact_services.delete_contact(gone, actor=user)
    db.session.commit()
    client.post(preview_url, data={"action": "import"})
    page = client.get(wait_for(client, preview_url), follow_redirects=True)\
        .get_data(as_text=True)
    assert "nichts wurde importiert" in page
    assert count(Contact) == 1, "the 4,000 rows of the parts before are undone"
    (undone,) = db.session.scalars(sa.select(ContactImport)).all()
    assert undone.undone_at is not None


def test_the_progress_shows_rows_done_and_a_stalled_job_can_be_started_again(login):
    _, client = login("member")
    preview_url = upload(client, fair_list(), encoding="utf-8").headers["Location"]
    kept = db.session.scalars(sa.select(ImportUpload)).one()
    kept.job, kept.job_state, kept.rows_done, kept.job_seen_at = \
        "check", "running", 4_000, utcnow()
    kept.job_options = {"mapping": {"0": "first_name"}, "skip_invalid": False, "total": ROWS,
                        "token": "other-thread"}
    db.session.commit()
    progress = client.get(f"{preview_url}/progress").get_data(as_text=True)
    assert "4.000 von 6.500 Zeilen" in progress and 'value="4000"' in progress
    assert "?col0=first_name" in progress, "the reload keeps the columns"
    page = client.get(preview_url).get_data(as_text=True)
    assert "<progress" in page and "disabled" in page
    assert client.post(preview_url, data={"action": "check"}).status_code == 303
    assert "wird gerade bearbeitet" in client.get(preview_url).get_data(as_text=True)
    assert client.post(f"{preview_url}/discard").status_code == 302
    assert count(ImportUpload) == 1, "not discarded while it is worked on"
    kept.job_seen_at = utcnow() - timedelta(minutes=5)  # its process has ended
    db.session.commit()
    assert client.get(f"{preview_url}/progress").status_code == 204
    assert "unterbrochen" in client.get(preview_url).get_data(as_text=True)
    assert client.post(preview_url, data={"action": "check"}).status_code == 303
    client.get(wait_for(client, preview_url))
    assert "neu: 6.500" in client.get(preview_url).get_data(as_text=True)


def half_imported(user, client):
    """A large file whose import went in by its first part, its job still heard of."""
    preview_url = upload(client, fair_list(), encoding="utf-8").headers["Location"]
    kept = db.session.scalars(sa.select(ImportUpload)).one()
    table = read_table(kept.filename, kept.data)
    part = import_contacts(
        RawTable(header=table.header, rows=table.rows[:jobs.PART_ROWS]),
        guess_mapping(table.header), actor=user, filename=kept.filename)
    part.contact_import.in_progress = True
    kept.job, kept.job_state, kept.rows_done = "import", "running", jobs.PART_ROWS
    kept.job_seen_at = utcnow()
    kept.job_options = {"mapping": {}, "skip_invalid": False, "total": ROWS, "token": "gone"}
    kept.job_result = {"import_id": part.contact_import.id}
    db.session.commit()
    assert count(Contact) == jobs.PART_ROWS
    return preview_url, kept, part.contact_import


def test_an_import_whose_process_ended_is_undone_when_the_page_is_opened(login):
    user, client = login("member")
    preview_url, kept, contact_import = half_imported(user, client)
    history = client.get("/imports/history").get_data(as_text=True)
    assert "läuft noch" in history
    refused = client.post(f"/imports/history/{contact_import.id}/undo",
                          follow_redirects=True).get_data(as_text=True)
    assert "läuft noch" in refused and count(Contact) == jobs.PART_ROWS
    kept.job_seen_at = utcnow() - timedelta(minutes=5)  # then the process ended
    db.session.commit()
    page = client.get(preview_url).get_data(as_text=True)
    assert "unterbrochen" in page and "nichts wurde importiert" in page
    assert count(Contact) == 0
    db.session.expire_all()
    assert db.session.get(ContactImport, contact_import.id).undone_at is not None


def test_an_import_left_by_a_job_that_ended_can_be_undone_from_the_history(login):
    user, client = login("member")
    _, kept, contact_import = half_imported(user, client)
    kept.job_seen_at = utcnow() - timedelta(minutes=5)
    db.session.delete(kept)  # the upload gone (cleaned away, or discarded elsewhere)
    db.session.commit()
    assert "läuft noch" not in client.get("/imports/history").get_data(as_text=True)
    client.post(f"/imports/history/{contact_import.id}/undo")
    assert count(Contact) == 0


def test_discarding_a_stalled_import_undoes_what_it_imported(login):
    user, client = login("member")
    preview_url, kept, _ = half_imported(user, client)
    kept.job_seen_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    assert client.post(f"{preview_url}/discard").status_code == 302
    assert count(Contact) == 0 and count(ImportUpload) == 0


def test_row_problems_of_a_background_check_are_in_the_users_language(login):
    _, client = login("member", language="en")
    preview_url = upload(client, fair_list(broken={7}), encoding="utf-8").headers["Location"]
    client.post(preview_url, data={"action": "check"})
    page = client.get(wait_for(client, preview_url)).get_data(as_text=True)
    assert "Enter a valid email address." in page
    assert "Geben Sie" not in page


def test_a_second_start_of_the_same_job_is_refused(login):
    """Two clicks, or two tabs: the second start finds the job claimed (one conditional
    UPDATE), even with the page it was sent from showing none."""
    user, client = login("member")
    preview_url = upload(client, fair_list(), encoding="utf-8").headers["Location"]
    kept = db.session.scalars(sa.select(ImportUpload)).one()
    mapping = {0: "first_name", 1: "last_name", 2: "email"}
    jobs.start(kept, mapping, job=Job.CHECK, actor=user)
    with pytest.raises(ValidationError, match="wird gerade bearbeitet"):
        jobs.start(kept, mapping, job=Job.CHECK, actor=user)
    wait_for(client, preview_url)
