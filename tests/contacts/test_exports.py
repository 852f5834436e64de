"""The contact list as CSV and XLSX: its filters and sorting, every page, in the audit log."""

import csv
import io
import re

import sqlalchemy as sa
import vobject
from openpyxl import load_workbook

from crm.audit.models import AuditEntry
from crm.contacts import services as contact_services
from crm.extensions import db
from crm.organisations import services as organisation_services
from crm.privacy import services as privacy_services
from tests.factories import make_contact, make_organisation, make_user


def rows_of_csv(response):
    assert response.data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))


def test_the_filtered_list_downloads_as_csv_with_every_page(login):
    _, client = login("member")
    firm = make_organisation(name="Hanwha Sensorik GmbH")
    make_contact(first_name="민정", last_name="김", latin_name="Kim Min-jung",
                 email="mj.kim@example.kr", organisation=firm, tags=["Seoul"])
    make_contact(first_name="Jürgen", last_name="Müller", tags=["Seoul"], do_not_contact=True)
    make_contact(first_name="Anna", last_name="Boston", tags=["Boston"])
    for number in range(3):
        make_contact(first_name="Seoul", last_name=f"Gast {number}", tags=["Seoul"])
    response = client.get("/contacts/export.csv?tag=Seoul&sort=-name&per_page=2&page=2")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename=lotse-kontakte-')
    rows = rows_of_csv(response)
    assert rows[0] == ["Name", "Name in lateinischer Schrift", "Position", "Organisation",
                       "E-Mail-Adresse", "Verantwortlich", "Nicht kontaktieren"]
    page = client.get("/contacts?tag=Seoul&sort=-name").get_data(as_text=True)
    shown = re.findall(r'<td><a href="/contacts/\d+">([^<]+)</a>', page)
    assert [row[0] for row in rows[1:]] == shown, "all pages, in the order of the page"
    assert len(shown) == 5 and "Anna Boston" not in shown
    kim = next(row for row in rows if row[1] == "Kim Min-jung")
    assert kim[3:5] == ["Hanwha Sensorik GmbH", "mj.kim@example.kr"]
    assert next(row for row in rows if row[0] == "Jürgen Müller")[6] == "ja"


def test_the_xlsx_starts_with_the_header_and_can_be_filtered(login):
    _, client = login("member")
    make_contact(first_name="Lea", last_name="Lang", position="CFO")
    response = client.get("/contacts/export.xlsx?q=lang")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert [cell.value for cell in sheet[1]][:3] == ["Name", "Name in lateinischer Schrift",
                                                     "Position"]
    assert [cell.value for cell in sheet[2]][:3] == ["Lea Lang", None, "CFO"]
    assert sheet.auto_filter.ref is not None
    assert sheet.max_row == 2


def test_text_a_spreadsheet_would_run_is_kept_as_text(login):
    _, client = login("member")
    make_contact(first_name="=HYPERLINK(\"http://x\")", last_name="Angriff", position="+49 1")
    row = rows_of_csv(client.get("/contacts/export.csv"))[1]
    assert row[0].startswith("'=") and row[2] == "'+49 1"
    sheet = load_workbook(io.BytesIO(client.get("/contacts/export.xlsx").data)).active
    assert sheet["A2"].data_type == "s" and sheet["A2"].value.startswith("=")


def test_erased_people_are_not_exported_and_each_download_is_audited(login):
    user, client = login("member")
    kept = make_contact(first_name="Bleibt", last_name="Da")
    gone = make_contact(first_name="Wird", last_name="Gelöscht", email="weg@example.de")
    privacy_services.erase_contact(gone, actor=make_user(role="admin"), confirmed=True)
    db.session.commit()
    rows = rows_of_csv(client.get("/contacts/export.csv?q="))
    assert [row[0] for row in rows[1:]] == [kept.display_name]
    client.get("/contacts/export.xlsx?owner=1")
    entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "export")
                                 .order_by(AuditEntry.id)).all()
    assert [(e.actor_id, e.record_label, e.changes["form"][1]) for e in entries] == [
        (user.id, "Kontakte", "csv"), (user.id, "Kontakte", "xlsx")]
    assert entries[1].changes["filters"][1] == "owner=1"


def test_the_export_takes_the_same_queries_for_few_and_many(login, count_queries):
    _, client = login("member")
    counts = []
    for total in (2, 40):
        while len(rows_of_csv(client.get("/contacts/export.csv"))) - 1 < total:
            make_contact(organisation=make_organisation())
        with count_queries() as statements:
            client.get("/contacts/export.csv")
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_a_deleted_list_is_for_admins_and_others_get_the_live_list(login):
    admin, client = login("admin")
    alive = make_contact(first_name="Lebt", last_name="Noch")
    deleted = make_contact(first_name="Ist", last_name="Weg")
    contact_services.delete_contact(deleted, actor=admin)
    db.session.commit()
    assert [r[0] for r in rows_of_csv(client.get("/contacts/export.csv?deleted=1"))[1:]] == [
        deleted.display_name]
    _, member = login("member")
    assert [r[0] for r in rows_of_csv(member.get("/contacts/export.csv?deleted=1"))[1:]] == [
        alive.display_name]


def test_a_person_downloads_as_a_vcard_a_phone_reads(login):
    _, client = login("member")
    firm = make_organisation(name="Hanwha; Sensorik, GmbH")
    person = make_contact(first_name="민정", last_name="김", latin_name="Kim Min-jung",
                          academic_title="Dr.", position="Head of Investment",
                          email="mj.kim@example.kr", phone="+82 2 2123 4567",
                          mobile="+82 10 9876 5432", organisation=firm)
    page = client.get(f"/contacts/{person.id}").get_data(as_text=True)
    assert f'href="/contacts/{person.id}/vcard"' in page
    response = client.get(f"/contacts/{person.id}/vcard")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/vcard; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert "filename=lotse-kim-min-jung-" in response.headers["Content-Disposition"]
    card = vobject.readOne(response.get_data(as_text=True))
    assert card.fn.value == "Dr. 김민정"
    assert (card.n.value.family, card.n.value.given) == ("김", "민정")
    assert card.nickname.value == "Kim Min-jung"
    assert card.org.value == ["Hanwha; Sensorik, GmbH"]
    assert card.title.value == "Head of Investment" and card.email.value == "mj.kim@example.kr"
    assert sorted(tel.value for tel in card.tel_list) == ["+821098765432", "+82221234567"]
    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "export")).one()
    assert (entry.record_type, entry.record_id, entry.changes["form"]) == (
        "contacts", person.id, [None, "vcf"])


def test_the_filtered_list_downloads_as_vcards_without_erased_people(login):
    _, client = login("member")
    for number in range(3):
        make_contact(first_name="Gast", last_name=f"Seoul {number}", tags=["Seoul"])
    make_contact(first_name="Anna", last_name="Boston", tags=["Boston"])
    gone = make_contact(first_name="Wird", last_name="Gelöscht", tags=["Seoul"])
    privacy_services.erase_contact(gone, actor=make_user(role="admin"), confirmed=True)
    db.session.commit()
    page = client.get("/contacts?tag=Seoul").get_data(as_text=True)
    assert 'href="/contacts/export.vcf?tag=Seoul"' in page
    response = client.get("/contacts/export.vcf?tag=Seoul")
    assert response.status_code == 200
    cards = list(vobject.readComponents(response.get_data(as_text=True)))
    assert sorted(card.fn.value for card in cards) == [
        "Gast Seoul 0", "Gast Seoul 1", "Gast Seoul 2"]
    assert client.get(f"/contacts/{gone.id}/vcard").status_code == 404


def test_a_vcard_of_a_deleted_person_is_for_admins_only(login):
    admin, admin_client = login("admin")
    person = make_contact(first_name="Ist", last_name="Weg")
    contact_services.delete_contact(person, actor=admin)
    db.session.commit()
    assert admin_client.get(f"/contacts/{person.id}/vcard").status_code == 200
    _, member = login("member")
    assert member.get(f"/contacts/{person.id}/vcard").status_code == 404


def test_a_person_is_exported_with_title_owner_and_current_organisations_only(login):
    user, client = login("member")
    jenoptik, zeiss, former, gone = (make_organisation(name=name) for name in (
        "Jenoptik AG", "Carl Zeiss AG", "Altfirma GmbH", "Gelöscht GmbH"))
    person = make_contact(first_name="Jürgen", last_name="Weiß", academic_title="Dr.",
                          owner_id=user.id, organisation=jenoptik)
    for organisation, is_current in ((former, False), (zeiss, True), (gone, True)):
        contact_services.add_affiliation(person, organisation=organisation,
                                         is_current=is_current, actor=user)
    organisation_services.delete_organisation(gone, actor=make_user(role="admin"))
    make_contact(first_name="민정", last_name="김", academic_title="Prof.")
    db.session.commit()
    rows = rows_of_csv(client.get("/contacts/export.csv"))
    assert [row[0] for row in rows[1:]] == ["Dr. Jürgen Weiß", "Prof. 김민정"]
    assert rows[1][3] == "Jenoptik AG, Carl Zeiss AG"  # not the former, not the deleted one
    assert (rows[1][5], rows[2][3], rows[2][5]) == (user.name, "", "")
