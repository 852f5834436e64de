"""Everything held on a person (Art. 15 DSGVO): for admins only, as a page and as JSON, complete,
escaped, recorded in the audit log, in a number of queries that does not grow with the data."""

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from crm.audit.models import AuditEntry
from crm.contacts import services as contact_services
from crm.contacts.models import Contact
from crm.events import services as event_services
from crm.extensions import db
from crm.privacy import services as privacy_services
from crm.privacy.models import DataRequest
from tests.auth.test_views import field_error
from tests.factories import (
    make_activity,
    make_contact,
    make_event,
    make_lead,
    make_organisation,
    make_user,
)

MARKUP = '<script>alert("x")</script> {{7*7}}'


@pytest.fixture
def person(app):
    """김민정, at OptoNet, met in Seoul, on a lead, with two notes (one deleted) and a change."""
    colleague = make_user(name="Lea Lang")
    optonet = make_organisation(name="OptoNet e.V.", kind="partner")
    contact = make_contact(actor=colleague, first_name="민정", last_name="김",
                           latin_name="Kim Soo-ah", email="mj.kim@example.kr",
                           organisation=optonet, source="Visitenkarte Seoul 2025",
                           informed_on="2025-05-21")
    event = make_event(name="Business Breakfast Seoul", starts_on="2025-05-20")
    event_services.set_attendance(event, contact, "met", actor=colleague)
    make_lead(actor=colleague, title="Sensorwerk Erfurt", contact_ids=[contact.id])
    make_activity(actor=colleague, subject=contact, body="Gespräch über Flächen\n" + MARKUP)
    gone = make_activity(actor=colleague, subject=contact, body="Gelöschte Notiz")
    from crm.activities import services as activity_services

    activity_services.delete_activity(gone, actor=colleague)
    contact_services.update_contact(contact, {"position": "Head of Investment"},
                                    actor=colleague)
    privacy_services.create_request({"kind": "access", "requester": "Kim per E-Mail",
                                     "received_on": "2025-06-02", "contact_id": contact.id},
                                    actor=colleague, today=date(2025, 6, 2))
    db.session.commit()
    return contact


def test_an_admin_sees_everything_held_on_a_person_escaped(login, person):
    _, client = login("admin")
    response = client.get(f"/contacts/{person.id}/data")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for text in ("김민정", "Kim Soo-ah", "mj.kim@example.kr", "OptoNet e.V.",
                 "Business Breakfast Seoul", "Sensorwerk Erfurt", "Gespräch über Flächen",
                 "Gelöschte Notiz", "Visitenkarte Seoul 2025", "21.05.2025",
                 "Head of Investment", "Lea Lang", "Auskunft (Art. 15), eingegangen am 02.06.2025"):
        assert text in html, text
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert "{{7*7}}" in html and ">49<" not in html
    assert response.headers["Cache-Control"] == "no-store"


def test_the_json_download_holds_the_same_and_the_look_up_is_audited(login, person):
    admin, client = login("admin")
    response = client.get(f"/contacts/{person.id}/data.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["contact"]["first_name"] == "민정" and data["contact"]["last_name"] == "김"
    assert data["contact"]["informed_on"] == "2025-05-21"
    assert data["contact"]["do_not_contact"] is False
    assert [a["organisation"] for a in data["affiliations"]] == ["OptoNet e.V."]
    assert [(a["event"], a["status"]) for a in data["attendances"]] == \
        [("Business Breakfast Seoul", "met")]
    assert [lead["title"] for lead in data["leads"]] == ["Sensorwerk Erfurt"]
    assert [(r["kind"], r["received_on"]) for r in data["requests"]] == [("access", "2025-06-02")]
    bodies = {a["body"]: a["deleted"] for a in data["activities"]}
    assert bodies == {"Gespräch über Flächen\n" + MARKUP: False, "Gelöschte Notiz": True}
    actions = [entry["action"] for entry in data["audit"]]
    assert actions[:2] == ["contact.create", "contact.update"]
    assert data["audit"][1]["changes"] == {"position": [None, "Head of Investment"]}
    logged = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "contact.data_report")).all()
    assert [(e.actor_id, e.record_id, e.changes) for e in logged] == \
        [(admin.id, person.id, {"form": [None, "json"]})]


@pytest.mark.parametrize("role", ["member", "manager"])
@pytest.mark.parametrize("suffix", ["data", "data.json"])
def test_only_admins_may_look_up_a_person(login, person, role, suffix):
    _, client = login(role)
    assert client.get(f"/contacts/{person.id}/{suffix}").status_code == 403
    assert f"/contacts/{person.id}/data" not in \
        client.get(f"/contacts/{person.id}").get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(
        AuditEntry.action == "contact.data_report")) == 0


def test_the_detail_page_links_admins_to_the_look_up(login, person):
    _, client = login("admin")
    assert f'href="/contacts/{person.id}/data"' in \
        client.get(f"/contacts/{person.id}").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/contacts/999999/data", "/contacts/999999/data.json",
                                  "/contacts/0/data", "/contacts/abc/data"])
def test_an_unknown_person_is_404(login, path):
    _, client = login("admin")
    assert client.get(path).status_code == 404


def test_the_look_up_takes_the_same_queries_however_much_is_held(login, person,
                                                                 count_queries):
    admin, client = login("admin")
    address = f"/contacts/{person.id}/data"
    make_activity(actor=admin, subject=person, body="Erste Notiz")  # as in the larger case
    client.get(address)  # warm up: session, translations
    with count_queries() as few:
        client.get(address)
    for number in range(15):
        make_activity(actor=admin, subject=person, body=f"Notiz {number}")
        event = make_event(name=f"Seminar {number}")
        event_services.set_attendance(event, person, "attended", actor=admin)
        make_lead(actor=admin, contact_ids=[person.id])
    db.session.commit()
    with count_queries() as many:
        html = client.get(address).get_data(as_text=True)
    assert "Notiz 14" in html and "Seminar 14" in html
    assert len(many) == len(few), "\n\n".join(s[:120] for s in many) + "\n=====\n" + "\n\n".join(s[:120] for s in few)


def test_an_admin_erases_a_person_and_the_data_is_gone_from_every_page(login, person):
    from tests.factories import make_token
    from tests.reports.test_views import number, report_tables

    admin, client = login("admin")
    event_id = db.session.scalar(sa.text("SELECT event_id FROM attendances"))
    event = client.get(f"/events/{event_id}").get_data(as_text=True)
    assert "김민정" in event
    reports_before = report_tables(client.get("/reports?from=2025-01-01&to=2025-12-31")
                                   .get_data(as_text=True))
    refused = client.post(f"/contacts/{person.id}/erase", data={})
    assert refused.status_code == 422
    assert field_error(refused.get_data(as_text=True), "confirm")
    assert db.session.get(type(person), person.id).email == "mj.kim@example.kr"

    response = client.post(f"/contacts/{person.id}/erase", data={"confirm": "y"})
    assert response.status_code == 302
    token = make_token(admin)
    pages = {
        "detail": client.get(f"/contacts/{person.id}").get_data(as_text=True),
        "list": client.get("/contacts").get_data(as_text=True),
        "search": client.get("/search?q=Kim").get_data(as_text=True),
        "typeahead": client.get("/contacts/typeahead?q=Kim").get_data(as_text=True),
        "event": client.get(f"/events/{event_id}").get_data(as_text=True),
        "audit": client.get("/admin/audit").get_data(as_text=True),
        "report": client.get(f"/contacts/{person.id}/data").get_data(as_text=True),
        "api": client.get(f"/api/v1/contacts/{person.id}",
                          headers={"Authorization": f"Bearer {token}"}).get_data(as_text=True),
    }
    for name, html in pages.items():
        for text in ("김민정", "Kim Soo-ah", "mj.kim@example.kr", "Gespräch über Flächen",
                     "Visitenkarte Seoul"):
            assert text not in html, (name, text)
    assert "Gelöschte Person" in pages["event"] and "Gelöschte Person" in pages["detail"]
    reports_after = report_tables(client.get("/reports?from=2025-01-01&to=2025-12-31")
                                  .get_data(as_text=True))
    def people_met(tables):
        return {row[0].text: number({c.key: c for c in row}["people_met"].text)
                for row in tables["events"].rows}

    before, after = people_met(reports_before), people_met(reports_after)
    assert after == before == {"Business Breakfast Seoul": 1}, "people met still counted"


def quiet(contact, *, years_ago):
    contact.created_at = contact.updated_at = \
        datetime.now(UTC) - timedelta(days=365 * years_ago + 2)
    db.session.commit()
    return contact


def test_the_retention_review_lists_people_quiet_for_years_to_keep_or_erase(login):
    admin, client = login("admin")
    silent = quiet(make_contact(first_name="Lange", last_name="Still"), years_ago=5)
    old_note = quiet(make_contact(first_name="Alte", last_name="Notiz"), years_ago=6)
    make_activity(actor=admin, subject=old_note, body="2020",
                  occurred_at=datetime.now(UTC) - timedelta(days=365 * 4))
    recent = quiet(make_contact(first_name="Kürzlich", last_name="Gesprochen"), years_ago=5)
    make_activity(actor=admin, subject=recent, body="Letzte Woche")
    quiet(make_contact(first_name="Gerade", last_name="Erfasst"), years_ago=1)
    met = quiet(make_contact(first_name="Kürzlich", last_name="Getroffen"), years_ago=5)
    event_services.set_attendance(make_event(starts_on=datetime.now(UTC).date().isoformat()),
                                  met, "met", actor=admin)
    on_lead = quiet(make_contact(first_name="Im", last_name="Projekt"), years_ago=5)
    make_lead(actor=admin, contact_ids=[on_lead.id])
    for contact in (met, on_lead):
        quiet(contact, years_ago=5)  # recording them changed nothing on the contact itself
    html = client.get("/privacy/retention").get_data(as_text=True)
    rows = re.findall(r'<th scope="row" class="fw-normal"><a href="/contacts/\d+">([^<]+)</a>',
                      html)
    assert rows == ["Lange Still", "Alte Notiz"], "never active first, then longest quiet"
    assert "Nie" in html

    assert client.post(f"/contacts/{silent.id}/keep").status_code == 302
    html = client.get("/privacy/retention").get_data(as_text=True)
    assert "„Lange Still“ wird behalten" in html, "the flash message"
    rows = re.findall(r'<th scope="row" class="fw-normal"><a href="/contacts/\d+">([^<]+)</a>',
                      html)
    assert rows == ["Alte Notiz"]
    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "contact.retention_keep")).one()
    assert (entry.actor_id, entry.record_id) == (admin.id, silent.id)


def test_people_deleted_long_ago_come_up_for_review_to_be_erased(login):
    """A deleted person's data is still held (the deletion can be undone): once quiet for the
    period, they are in the review, marked deleted, to be erased (not kept); erasing works."""
    admin, client = login("admin")
    gone = make_contact(first_name="Längst", last_name="Gelöscht")
    contact_services.delete_contact(gone, actor=admin)
    quiet(gone, years_ago=5)
    lately = make_contact(first_name="Neulich", last_name="Gelöscht")
    quiet(lately, years_ago=5)
    contact_services.delete_contact(lately, actor=admin)  # deleted this week
    db.session.commit()
    html = client.get("/privacy/retention").get_data(as_text=True)
    rows = re.findall(r'<th scope="row" class="fw-normal"><a href="/contacts/\d+">([^<]+)</a>'
                      r' <span class="badge text-bg-secondary">gelöscht</span>', html)
    assert rows == ["Längst Gelöscht"]
    assert "Neulich" not in html
    assert f"/contacts/{gone.id}/keep" not in html
    assert client.post(f"/contacts/{gone.id}/keep").status_code == 404
    response = client.post(f"/contacts/{gone.id}/erase", data={"confirm": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Contact, gone.id).erased_at is not None
    assert "Gelöscht" not in client.get("/privacy/retention").get_data(as_text=True)


@pytest.mark.parametrize("role", ["member", "manager"])
def test_only_admins_review_retention(login, role):
    _, client = login(role)
    contact = quiet(make_contact(), years_ago=5)
    assert client.get("/privacy/retention").status_code == 403
    assert client.post(f"/contacts/{contact.id}/keep").status_code == 403
    assert db.session.get(type(contact), contact.id).retention_reviewed_on is None


def test_the_retention_review_takes_the_same_queries_for_few_and_many(login, count_queries):
    admin, client = login("admin")
    counts = []
    for total in (2, 30):
        while db.session.scalar(sa.select(sa.func.count(Contact.id))) < total:
            contact = quiet(make_contact(organisation=make_organisation()), years_ago=5)
            make_activity(actor=admin, subject=contact,
                          occurred_at=datetime.now(UTC) - timedelta(days=2000))
        client.get("/privacy/retention")
        with count_queries() as statements:
            html = client.get("/privacy/retention?per_page=100").get_data(as_text=True)
        assert html.count('<th scope="row" class="fw-normal">') == total
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_the_register_lists_open_requests_by_deadline_and_marks_the_overdue(login):
    _, client = login("admin")
    contact = make_contact(first_name="Jürgen", last_name="Weiß")
    received = datetime.now(UTC).date() - timedelta(days=3)
    due = privacy_services.one_month_after(received).strftime("%d.%m.%Y")
    response = client.post("/privacy/requests", data={
        "kind": "erasure", "requester": "Jürgen Weiß <jw@example.de>",
        "received_on": received.isoformat(), "contact_id": str(contact.id), "note": "per Brief"})
    assert response.status_code == 302
    client.post("/privacy/requests", data={"kind": "access", "requester": "Kim Soo-ah",
                                          "received_on": "2025-03-01"})
    html = client.get("/privacy/requests").get_data(as_text=True)
    rows = re.findall(r'<th scope="row" class="fw-normal text-nowrap">([0-9.]+)', html)
    assert rows == ["01.04.2025", due], "nearest deadline first"
    assert html.count('text-bg-danger">überfällig<') == 1
    assert f'href="/contacts/{contact.id}">Jürgen Weiß</a>' in html
    assert "Jürgen Weiß &lt;jw@example.de&gt;" in html
    old = db.session.scalars(sa.select(DataRequest).where(
        DataRequest.requester == "Kim Soo-ah")).one()
    assert client.post(f"/privacy/requests/{old.id}/done").status_code == 302
    html = client.get("/privacy/requests").get_data(as_text=True)
    rows = re.findall(r'<th scope="row" class="fw-normal text-nowrap">([0-9.]+)', html)
    assert rows == [due, "01.04.2025"], "answered ones after the open ones"
    assert 'text-bg-danger">überfällig<' not in html


def test_a_request_that_cannot_be_registered_is_named_beside_its_field(login):
    _, client = login("admin")
    response = client.post("/privacy/requests", data={"kind": "access", "requester": "",
                                                      "received_on": "2999-01-01"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, "requester") and field_error(html, "received_on")
    assert db.session.scalar(sa.select(sa.func.count(DataRequest.id))) == 0


def test_the_register_takes_the_same_queries_for_few_and_many(login, count_queries):
    admin, client = login("admin")
    counts = []
    for total in (2, 30):
        while db.session.scalar(sa.select(sa.func.count(DataRequest.id))) < total:
            request = privacy_services.create_request(
                {"kind": "access", "requester": "Kim", "received_on": "2026-01-05",
                 "contact_id": make_contact().id}, actor=admin, today=datetime.now(UTC).date())
            privacy_services.close_request(request, actor=admin, today=datetime.now(UTC).date())
        db.session.commit()
        client.get("/privacy/requests")
        with count_queries() as statements:
            client.get("/privacy/requests?per_page=100")
        counts.append(len(statements))
    assert counts[0] == counts[1]
