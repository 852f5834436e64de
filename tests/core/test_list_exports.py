"""Every list downloads as CSV and XLSX with its filters: organisations, contacts, events,
leads and follow-ups; only what the user may see, every download in the audit log."""

import csv
import io

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from crm.audit.models import AuditEntry
from crm.core import exports
from crm.extensions import db
from tests.factories import (
    make_activity,
    make_contact,
    make_event,
    make_lead,
    make_organisation,
    make_user,
)

LISTS = {
    "organisations": ("/organisations", "Organisationen"),
    "contacts": ("/contacts", "Kontakte"),
    "events": ("/events", "Veranstaltungen"),
    "leads": ("/leads", "Leads"),
    "follow-ups": ("/follow-ups", "Wiedervorlagen"),
}


def rows_of(response):
    """The rows of a CSV download (UTF-8 with BOM, `;`)."""
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))


def one_of_each(actor):
    """A record for every list, all named with an umlaut."""
    firm = make_organisation(name="Jenoptik Ärzteoptik AG", country="DE")
    person = make_contact(first_name="Jörg", last_name="Weiß", organisation=firm)
    make_event(name="Business Breakfast Seoul", starts_on="2025-05-20", city="Seoul",
               attendees=[{"contact_id": person.id, "status": "met"}])
    lead = make_lead(actor=actor, title="Sensorwerk Jena", organisation=firm, owner_id=actor.id)
    make_activity(actor=actor, subject=lead, body="Angebot nachfassen", due_on="2030-01-10",
                  assignee_id=actor.id)


@pytest.mark.parametrize("name", sorted(LISTS))
def test_each_list_downloads_as_csv_and_xlsx_and_is_audited(login, name):
    user, client = login("manager")
    one_of_each(user)
    path, title = LISTS[name]
    page = client.get(path).get_data(as_text=True)
    assert f'href="{path}/export.csv"' in page and f'href="{path}/export.xlsx"' in page
    csv_download = client.get(f"{path}/export.csv")
    assert csv_download.headers["Cache-Control"] == "no-store"
    rows = rows_of(csv_download)
    assert len(rows) == 2, rows
    assert any("Jenoptik" in cell or "Seoul" in cell or "Angebot" in cell or "Weiß" in cell
               or "Sensorwerk" in cell for cell in rows[1])
    xlsx = client.get(f"{path}/export.xlsx")
    assert xlsx.headers["Cache-Control"] == "no-store"
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert [c.value for c in sheet[1]] == rows[0]
    assert sheet.max_row == 2
    entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "export")
                                 .order_by(AuditEntry.id)).all()
    assert [(e.actor_id, e.record_label, e.changes["form"][1]) for e in entries] == [
        (user.id, title, "csv"), (user.id, title, "xlsx")]


@pytest.mark.parametrize("name", sorted(LISTS))
def test_each_export_takes_the_same_queries_for_few_and_many(login, count_queries, name):
    user, client = login("manager")
    path, _ = LISTS[name]
    counts = []
    for total in (1, 12):
        while len(rows_of(client.get(f"{path}/export.csv"))) - 1 < total:
            one_of_each(user)
        with count_queries() as statements:
            client.get(f"{path}/export.csv")
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_the_lead_export_keeps_its_numbers_and_others_confidential_leads_out(login):
    owner = make_user()
    make_lead(actor=owner, title="Geheimprojekt Halbleiter", is_confidential=True,
              owner_id=owner.id)
    make_lead(actor=owner, title="Offenes Projekt", capex_eur=25_000_000, new_jobs=120,
              expected_decision_on="2026-06-30")
    _, member = login("member")
    rows = rows_of(member.get("/leads/export.csv"))
    assert [row[0] for row in rows[1:]] == ["Offenes Projekt"]
    header = rows[0]
    row = dict(zip(header, rows[1], strict=True))
    assert (row["CAPEX"], row["Neue Arbeitsplätze"], row["Erwartete Entscheidung"]) == (
        "25000000", "120", "30.06.2026")
    sheet = load_workbook(io.BytesIO(member.get("/leads/export.xlsx").data)).active
    values = dict(zip([c.value for c in sheet[1]], [c.value for c in sheet[2]], strict=True))
    assert values["CAPEX"] == 25_000_000 and values["Neue Arbeitsplätze"] == 120
    sheet = load_workbook(io.BytesIO(member.get("/leads/export.xlsx").data)).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        "Offenes Projekt"]
    _, manager = login("manager")
    assert len(rows_of(manager.get("/leads/export.csv"))) == 3


def test_the_lists_export_with_their_filters(login):
    user, client = login("manager")
    make_organisation(name="Alpha Optik GmbH", kind="investor")
    make_organisation(name="OptoNet e.V.", kind="partner")
    make_event(name="Delegationsreise Boston", kind="trip", starts_on="2025-10-06")
    make_event(name="Investorenseminar", starts_on="2024-03-01")
    assert [r[0] for r in rows_of(client.get("/organisations/export.csv?kind=partner"))[1:]] == [
        "OptoNet e.V."]
    assert [r[2] for r in rows_of(client.get("/events/export.csv?year=2025"))[1:]] == [
        "Delegationsreise Boston"]
    make_activity(actor=user, subject=make_contact(), body="Früh", due_on="2030-01-10",
                  assignee_id=user.id)
    make_activity(actor=user, subject=make_contact(), body="Spät", due_on="2031-01-10",
                  assignee_id=user.id)
    rows = rows_of(client.get("/follow-ups/export.csv?due_from=2031-01-01"))
    assert [dict(zip(rows[0], r, strict=True))["Text"] for r in rows[1:]] == ["Spät"]


def test_a_member_exports_only_their_own_follow_ups(login):
    other = make_user()
    make_activity(actor=other, subject=make_contact(), body="Nicht meins", due_on="2030-01-10",
                  assignee_id=other.id)
    user, client = login("member")
    make_activity(actor=user, subject=make_contact(), body="Meins", due_on="2030-01-10",
                  assignee_id=user.id)
    rows = rows_of(client.get(f"/follow-ups/export.csv?person={other.id}"))
    assert "Person" not in rows[0]
    assert [dict(zip(rows[0], r, strict=True))["Text"] for r in rows[1:]] == ["Meins"]


@pytest.mark.parametrize("path", ["/contacts/export.pdf", "/leads/export.", "/events/export"])
def test_an_unknown_format_is_a_404(login, path):
    _, client = login("member")
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("name", sorted(LISTS))
def test_arguments_meant_to_rebuild_the_links_change_nothing(login, name):
    """The download links carry the page's arguments as a query string only: `form`,
    `endpoint`, `_method` or `_external` sent to a list page neither break it nor the links."""
    _, client = login("manager")
    path, _ = LISTS[name]
    response = client.get(f"{path}?form=x&endpoint=x&_method=POST&_external=1&q=a&page=2")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert (f'href="{path}/export.csv?form=x&amp;endpoint=x&amp;_method=POST&amp;_external=1'
            f'&amp;q=a"') in html


@pytest.mark.parametrize(("name", "table"), [
    ("organisations", "organisations"), ("contacts", "contacts"), ("leads", "leads"),
    ("follow-ups", "activities")])
def test_a_download_is_in_the_audit_log_before_its_rows_are_read(login, count_queries, name,
                                                                 table):
    """The rows are read after the note is committed: a long list's records are then not
    all expired by that commit, and are read part by part."""
    user, client = login("manager")
    one_of_each(user)
    path, _ = LISTS[name]
    with count_queries() as statements:
        assert len(rows_of(client.get(f"{path}/export.csv"))) == 2
    noted = next(i for i, s in enumerate(statements)
                 if s.startswith("INSERT INTO audit_entries"))
    read = [i for i, s in enumerate(statements)
            if s.startswith("SELECT") and f"FROM {table}" in s]
    assert read and min(read) > noted


def test_a_long_list_is_read_in_parts_and_downloads_whole_in_its_order(login, count_queries,
                                                                      monkeypatch):
    """A list of any length is read `EXPORT_CHUNK` records at a time (so 200,000 people never
    sit in memory at once) and written as it is read; the download still holds every row,
    in the list's order, each with its organisation."""
    monkeypatch.setattr(exports, "EXPORT_CHUNK", 7)
    monkeypatch.setattr(exports, "WIDTH_SAMPLE", 5)
    _, client = login("manager")
    firm = make_organisation(name="Jenoptik AG")
    names = [f"Person {n:02d}" for n in range(20)]
    for name in reversed(names):
        make_contact(first_name="Ära", last_name=name, organisation=firm)
    with count_queries() as statements:
        rows = rows_of(client.get("/contacts/export.csv?sort=name"))
    assert [row[0] for row in rows[1:]] == [f"Ära {name}" for name in names]
    assert {row[3] for row in rows[1:]} == {"Jenoptik AG"}
    # The people in one query, read in three parts, each with its own query of affiliations.
    assert len([s for s in statements if "FROM contacts" in s]) == 1
    assert len([s for s in statements if "FROM affiliations" in s]) == 3
    sheet = load_workbook(io.BytesIO(client.get("/contacts/export.xlsx?sort=name").data)).active
    assert [row[:4] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        (f"Ära {name}", None, None, "Jenoptik AG") for name in names]
    assert sheet.auto_filter.ref == "A1:G21"
    assert sheet.column_dimensions["A"].width >= len("Ära Person 00")
