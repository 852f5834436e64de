import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from crm.activities import services
from crm.activities.models import Activity
from crm.activities.views import today
from crm.extensions import db
from tests.auth.test_views import field_error
from tests.conftest import log_in
from tests.factories import (
    make_activity,
    make_contact,
    make_event,
    make_lead,
    make_organisation,
    make_user,
)


def count():
    return db.session.scalar(sa.select(sa.func.count(Activity.id)))


@pytest.mark.parametrize("kind", ["organisation", "contact", "event", "lead"])
def test_a_note_is_saved_in_place_with_htmx_on_every_kind_of_record(login, kind):
    user, client = login()
    record = {"organisation": make_organisation, "contact": make_contact, "event": make_event,
              "lead": lambda: make_lead(actor=user)}[kind]()
    response = client.post("/activities", headers={"HX-Request": "true"}, data={
        "subject_type": kind, "subject_id": record.id, "kind": "call",
        "body": "Angerufen: https://example.org/plan?a=1&b=2\nZweite Zeile <b>fett</b>"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="timeline-section"')
    assert ('<a href="https://example.org/plan?a=1&amp;b=2" rel="noopener noreferrer" '
            'target="_blank">https://example.org/plan?a=1&amp;b=2</a>') in html
    assert "Zweite Zeile &lt;b&gt;fett&lt;/b&gt;" in html
    page = client.get(f"/{kind}s/{record.id}").get_data(as_text=True)
    assert "Zweite Zeile &lt;b&gt;fett&lt;/b&gt;" in page


def test_a_plain_post_records_and_returns_to_the_record(login):
    _, client = login()
    contact = make_contact()
    response = client.post("/activities", data={"subject_type": "contact",
                                                "subject_id": contact.id, "kind": "note",
                                                "body": "Visitenkarte erhalten"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/contacts/{contact.id}"
    assert count() == 1


@pytest.mark.parametrize(("data", "field"), [
    ({"body": ""}, "body"), ({"body": "x" * 1_000_000}, "body"), ({"due_on": "morgen"}, "due_on"),
    ({"due_on": "2026-12-01", "assignee_id": "4242"}, "assignee_id"),
])
def test_bad_input_shows_beside_the_field_with_and_without_htmx(login, data, field):
    _, client = login()
    contact = make_contact()
    form = {"subject_type": "contact", "subject_id": contact.id, "kind": "note",
            "body": "Notiz", **data}
    for headers in ({"HX-Request": "true"}, {}):
        response = client.post("/activities", data=form, headers=headers)
        assert response.status_code == 422
        assert field_error(response.get_data(as_text=True), field)
    assert count() == 0


@pytest.mark.parametrize(("subject_type", "subject_id"), [
    ("contact", "99999"), ("planet", "1"), ("contact", "abc"), ("lead", "99999")])
def test_an_activity_on_a_record_that_does_not_exist_is_404(login, subject_type, subject_id):
    _, client = login()
    response = client.post("/activities", data={"subject_type": subject_type,
                                                "subject_id": subject_id, "body": "x"})
    assert response.status_code == 404


def test_an_activity_on_a_confidential_lead_of_someone_else_is_404(app, login):
    owner = make_user()
    lead = make_lead(actor=owner, is_confidential=True)
    _, client = login()
    response = client.post("/activities", data={"subject_type": "lead", "subject_id": lead.id,
                                                "body": "x"})
    assert response.status_code == 404 and count() == 0


def test_home_groups_my_follow_ups(login):
    user, client = login()
    contact = make_contact(first_name="Ana", last_name="Lee")
    day = today()
    for label, due in (("Überfällig A", day - timedelta(days=2)), ("Heute B", day),
                       ("Später C", day + timedelta(days=30))):
        services.create_activity(body=label, actor=user, contact=contact, due_on=due)
    services.create_activity(body="Für jemand anderen", actor=user, contact=contact, due_on=day,
                             assignee=make_user())
    db.session.commit()
    html = client.get("/").get_data(as_text=True)
    assert html.index("Überfällig A") < html.index("Heute B") < html.index("Später C")
    assert 'id="group-overdue"' in html and 'id="group-today"' in html
    assert "Für jemand anderen" not in html


def test_ticking_a_follow_up_off_on_the_home_page(login):
    user, client = login()
    follow_up = services.create_activity(body="Rückruf bei Kim", actor=user,
                                         contact=make_contact(), due_on=today())
    db.session.commit()
    response = client.post(f"/activities/{follow_up.id}/done?gone=1",
                           headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.get_data(as_text=True) == ""
    assert "Rückruf bei Kim" not in client.get("/").get_data(as_text=True)
    db.session.expire_all()
    assert follow_up.done_by_id == user.id
    response = client.post(f"/activities/{follow_up.id}/open", data={"next": "/"})
    assert response.status_code == 302
    assert "Rückruf bei Kim" in client.get("/").get_data(as_text=True)


def test_managers_see_everyones_follow_ups_and_who_is_behind(app, login):
    anna, ben = make_user(name="Anna"), make_user(name="Ben")
    contact = make_contact()
    for user in (anna, anna, ben):
        services.create_activity(body=f"Rückruf {user.name}", actor=user, contact=contact,
                                 due_on=today() - timedelta(days=3))
    db.session.commit()
    _, manager = login("manager")
    html = manager.get("/follow-ups").get_data(as_text=True)
    assert "Rückruf Anna" in html and "Rückruf Ben" in html
    table = html.split('id="overdue-per-person"')[1]
    assert re.search(r"Anna</a></td><td class=\"text-end\">2<", table)
    assert "Rückruf Ben" not in manager.get(f"/follow-ups?person={anna.id}").get_data(
        as_text=True)
    member_view = log_in(app.test_client(), ben).get("/follow-ups").get_data(as_text=True)
    assert "Rückruf Ben" in member_view and "Rückruf Anna" not in member_view


def test_the_follow_ups_page_runs_the_same_queries_for_3_and_60(app, login, count_queries):
    """However many follow-ups (on people, organisations, leads; done, open and overdue), the
    page asks the same number of questions, and the overdue ones per person are counted."""
    people = [make_user(name=f"Kollegin {n}") for n in range(3)]
    _, manager = login("manager")
    counts = []
    for total in (3, 60):
        while db.session.scalar(sa.select(sa.func.count(Activity.id))) < total:
            number = db.session.scalar(sa.select(sa.func.count(Activity.id)))
            subject = (make_contact(commit=False) if number % 3 else
                       make_organisation(commit=False) if number % 2 else make_lead(commit=False))
            services.create_activity(body=f"Rückruf {number}", actor=people[number % 3],
                                     due_on=today() + timedelta(days=number % 5 - 2),
                                     **{type(subject).__name__.lower(): subject})
        db.session.commit()
        with count_queries() as statements:
            html = manager.get("/follow-ups").get_data(as_text=True)
        assert f"Rückruf {total - 1}" in html
        counts.append(len(statements))
    assert counts[0] == counts[1]
    overdue = html.split('id="overdue-per-person"')[1]
    assert all(person.name in overdue for person in people)


def test_after_an_event_follow_ups_for_everyone_met_in_one_step(login):
    user, client = login()
    event = make_event(name="Business Breakfast Seoul", starts_on="2024-09-02")
    from crm.events import services as event_services

    for name in ("Kim", "Park"):
        event_services.set_attendance(event, make_contact(last_name=name), "met", actor=user)
    db.session.commit()
    html = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "2 hier getroffene Personen haben seitdem nichts von uns gehört" in html
    response = client.post(f"/events/{event.id}/follow-ups", data={"assignee": "met"})
    assert response.status_code == 302
    html = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "seitdem nichts von uns gehört" not in html
    assert "2 Wiedervorlagen wurden angelegt." in html
    assert html.count('activity-body">Nachfassen nach Business Breakfast Seoul') == 2


def test_older_timeline_entries_load_in_place(login):
    user, client = login()
    contact = make_contact()
    for n in range(35):
        services.create_activity(body=f"Eintrag {n:02d}", actor=user, contact=contact,
                                 occurred_at=f"2025-01-{1 + n % 28:02d}T{n % 24:02d}:00")
    db.session.commit()
    html = client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert html.count('class="timeline-entry') == 30
    link = re.search(r'hx-get="(/timeline/contact/\d+\?before=[^"]+)"', html).group(1)
    more = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert more.count('class="timeline-entry') == 5


def test_only_the_author_or_a_manager_changes_an_activity(app, login):
    author = make_user()
    note = services.create_activity(body="Meins", actor=author, contact=make_contact())
    db.session.commit()
    _, other = login()
    assert other.get(f"/activities/{note.id}/edit").status_code == 403
    assert other.post(f"/activities/{note.id}/delete").status_code == 403
    _, manager = login("manager")
    assert manager.post(f"/activities/{note.id}/delete").status_code == 302
    db.session.expire_all()
    assert note.deleted_at is not None


def test_hidden_records_leave_the_follow_up_lists(app, login):
    user, client = login()
    removed = make_user()
    lead = make_lead(actor=removed, is_confidential=True, team_member_ids=[user.id],
                     title="Geheimes Werk")
    gone = make_contact(first_name="Weg", last_name="Person")
    services.create_activity(body="Zum geheimen Werk", actor=removed, lead=lead, due_on=today(),
                             assignee=user)
    services.create_activity(body="Zur gelöschten Person", actor=user, contact=gone,
                             due_on=today())
    from crm.contacts import services as contact_services
    from crm.leads import services as lead_services

    contact_services.delete_contact(gone, actor=user)
    lead_services.update_lead(lead, {"team_member_ids": []}, actor=removed)
    db.session.commit()
    for url in ("/", "/follow-ups"):
        html = client.get(url).get_data(as_text=True)
        assert "Geheimes Werk" not in html and "Zum geheimen Werk" not in html, url
        assert "Zur gelöschten Person" not in html, url


def test_a_trip_lists_the_people_met_at_its_events(login):
    user, client = login()
    trip = make_event(name="Reise", kind="trip", starts_on="2024-09-01", ends_on="2024-09-06")
    breakfast = make_event(parent_id=trip.id, starts_on="2024-09-02")
    from crm.events import services as event_services

    event_services.set_attendance(breakfast, make_contact(last_name="Kim"), "met", actor=user)
    db.session.commit()
    html = client.get(f"/events/{trip.id}").get_data(as_text=True)
    assert "1 hier getroffene Person hat seitdem nichts von uns gehört" in html


def test_an_admin_restores_a_deleted_activity_from_the_audit_log(app, login):
    from crm.audit.models import AuditEntry

    member = make_user()
    contact = make_contact(first_name="Jürgen", last_name="Weiß")
    activity = make_activity(actor=member, subject=contact, body="Wieder da")
    services.delete_activity(activity, actor=member)
    db.session.commit()
    _, client = login("admin")
    html = client.get("/admin/audit?action=activity.delete").get_data(as_text=True)
    assert f'action="/activities/{activity.id}/restore"' in html
    response = client.post(f"/activities/{activity.id}/restore")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/contacts/{contact.id}")
    assert "Wieder da" in client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    actions = db.session.scalars(sa.select(AuditEntry.action).where(
        AuditEntry.record_type == "activities").order_by(AuditEntry.id)).all()
    assert actions == ["activity.create", "activity.delete", "activity.restore"]
    manager_client = log_in(app.test_client(), make_user(role="manager"))
    assert 'restore"' not in manager_client.get("/admin/audit").get_data(as_text=True)
    assert manager_client.post(f"/activities/{activity.id}/restore").status_code == 403
