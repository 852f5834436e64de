"""Large imports: new people are created in batches, with a number of queries that does not
grow with the rows, and 100,000 rows go in whole; rows that may mean someone known are still
matched one by one, also against people an earlier row of the same file created."""

import time

import sqlalchemy as sa

from crm.audit.models import AuditEntry
from crm.contacts.models import Affiliation, Contact
from crm.events.models import Attendance
from crm.extensions import db
from crm.imports.models import ImportedRow
from crm.imports.reading import guess_mapping, read_table
from crm.imports.services import import_contacts, undo_import
from tests.factories import make_contact, make_event, make_organisation, make_user

HEADER = "Vorname;Nachname;E-Mail;Telefon;Firma;Schlagworte\r\n"


def badge_list(count, start=0):
    """`count` visitors of a fair, at 50 companies, a third of them with Korean names."""
    rows = []
    for i in range(start, start + count):
        first, last = ("민정", "김") if i % 3 == 0 else ("Jürgen", "Müller")
        rows.append(f"{first};{last}{i};besucher{i}@example.kr;+49 3641 {100000 + i};"
                    f"Firma {i % 50} GmbH;Messe\r\n")
    return HEADER + "".join(rows)


def run(text, actor, event=None):
    table = read_table("scan.csv", text.encode("utf-8"))
    outcome = import_contacts(table, guess_mapping(table.header), actor=actor,
                              filename="scan.csv", event=event, status="met" if event else None)
    db.session.commit()
    return outcome


def test_new_people_take_the_same_queries_however_many(app, count_queries):
    actor = make_user()
    event = make_event(name="Business Breakfast Seoul", starts_on="2025-05-20")
    run(badge_list(50, start=10_000), actor, event)  # the 50 companies exist from now on
    reads = []
    for start, count in ((0, 200), (1_000, 600)):
        with count_queries() as statements:
            outcome = run(badge_list(count, start=start), actor, event)
        assert outcome.count("created") == count
        reads.append(len([s for s in statements if s.lstrip().upper().startswith("SELECT")]))
    assert reads[0] == reads[1]
    assert db.session.scalar(sa.select(sa.func.count(Attendance.id))) == 850


def test_a_file_of_new_and_known_people_is_matched_row_by_row_where_it_must(app):
    actor = make_user()
    jenoptik = make_organisation(name="Jenoptik AG")
    known = make_contact(first_name="Anna", last_name="Berg", organisation=jenoptik,
                         email="anna.berg@jenoptik.example")
    make_contact(first_name="Ole", last_name="Lund", organisation=jenoptik)
    db.session.commit()
    outcome = run(HEADER
                  + "Jürgen;Weiß;j.weiss@example.de;;Zeiss AG;\r\n"        # new
                  + ";;j.weiss@example.de;+49 3641 650;;Optik\r\n"       # the same, again
                  + "Anna;Berg;ANNA.BERG@jenoptik.example;;;Seoul\r\n"   # known by email
                  + "Ole;Lund;;;JENOPTIK GmbH;\r\n"                      # known by name
                  + "Min-jung;Kim;;;;\r\n"                                # new, nothing else
                  + "Ji-ho;Park;kein-email;;;\r\n", actor)                # unreadable
    assert [row.action for row in outcome.rows] == [
        "created", "updated", "updated", "unchanged", "created", "failed"]
    assert set(outcome.rows[5].errors) == {"email"}
    weiss = db.session.scalar(sa.select(Contact).where(Contact.email == "j.weiss@example.de"))
    assert (weiss.phone, weiss.tags) == ("+493641650", ["Optik"])
    assert [a.organisation.name for a in weiss.affiliations] == ["Zeiss AG"]
    assert db.session.get(Contact, known.id).tags == ["Seoul"]
    assert db.session.scalar(sa.select(sa.func.count(Contact.id))) == 4
    done = outcome.contact_import
    assert undo_import(done, actor=actor) == (2, 1)


# Far below the design's bar (see the README's "Known gaps"), but three times what importing
# person by person ever managed: a guard against falling back to that.
MINIMUM_ROWS_PER_SECOND = 2_000


def test_100000_rows_are_imported_whole_with_their_log_and_journal(app):
    actor = make_user()
    text = badge_list(100_000)
    started = time.perf_counter()
    outcome = run(text, actor)
    assert 100_000 / (time.perf_counter() - started) >= MINIMUM_ROWS_PER_SECOND
    assert outcome.counts() == {"created": 100_000, "updated": 0, "unchanged": 0,
                                "failed": 0, "empty": 0}

    def count(column, *where):
        return db.session.scalar(sa.select(sa.func.count(column)).where(*where))

    assert count(Contact.id) == 100_000
    assert count(Affiliation.id) == 100_000
    assert count(ImportedRow.id) == 100_000
    assert count(AuditEntry.id, AuditEntry.action == "contact.create") == 100_000
    kim = db.session.scalar(sa.select(Contact).where(
        Contact.email == "besucher99999@example.kr"))
    assert (kim.first_name, kim.last_name, kim.phone) == ("민정", "김99999", "+493641199999")
    assert kim.search_text and "messe" in kim.search_text
