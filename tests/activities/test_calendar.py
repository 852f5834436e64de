"""The private calendar feed: switched on, renewed and off on the account page; valid
iCalendar with the user's open follow-ups at 09:00 Europe/Berlin and their events as whole
days; nobody else's data; every address that no longer works is a 404."""

import re
import secrets
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from crm.activities import services as activity_services
from crm.audit.models import AuditEntry
from crm.auth import services as auth_services
from crm.contacts import services as contact_services
from crm.core.models import utcnow
from crm.extensions import db
from crm.leads import services as lead_services
from tests.factories import make_activity, make_contact, make_event, make_lead, make_user

ADDRESS = re.compile(r'data-testid="calendar-address">\s*([^<\s]+)\s*<')
WINTER_DAY, SUMMER_DAY = date(2027, 1, 15), date(2027, 7, 15)


def enable(client):
    """Switch the feed on (or renew it) on the account page; returns the address's path."""
    response = client.post("/account/calendar", data={"action": "enable"})
    assert response.status_code == 200
    found = ADDRESS.findall(response.get_data(as_text=True))
    assert len(found) == 1
    path = urlsplit(found[0]).path
    assert re.fullmatch(r"/calendar/cal_[A-Za-z0-9_-]{43}\.ics", path), path
    return path


def fetch(app, path):
    """The feed as someone without a session (a calendar program) gets it."""
    return app.test_client().get(path)


def parse(response):
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    return Calendar.from_ical(response.data)


def entries(calendar):
    return {str(entry["SUMMARY"]): entry for entry in calendar.walk("VEVENT")}


def test_switching_the_feed_on_shows_its_address_once(app, login):
    user, client = login()
    path = enable(client)
    secret = path.removeprefix("/calendar/").removesuffix(".ics")

    account = client.get("/account").get_data(as_text=True)
    assert secret not in account and 'data-testid="calendar-address"' not in account
    db.session.expire_all()
    assert user.calendar_token_hash and secret not in user.calendar_token_hash
    audit = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "user.calendar_enable")).all()
    assert len(audit) == 1 and secret not in repr(
        [(a.record_label, a.changes) for a in audit])

    calendar = parse(fetch(app, path))
    assert calendar["VERSION"] == "2.0" and "Lotse" in str(calendar["PRODID"])
    assert str(calendar["X-WR-CALNAME"]) == f"Lotse – {user.name}"


def test_the_feed_holds_my_open_follow_ups_at_nine_in_berlin_and_my_events_as_days(app, login):
    user, client = login(name="Lea Schäfer", email="lea@lotse.example")
    colleague = make_user(name="Jonas Weber", email="jonas.weber@lotse.example")
    contact = make_contact(first_name="Do-hyun", last_name="Kim")
    lead = make_lead(actor=user, title="Testzentrum Fahrerassistenz")
    make_activity(actor=user, subject=contact, due_on=WINTER_DAY,
                  body="Exposés für das Erfurter Kreuz schicken")
    make_activity(actor=colleague, subject=lead, due_on=SUMMER_DAY, assignee=user,
                  body="Besichtigung vorbereiten")
    done = make_activity(actor=user, due_on=WINTER_DAY, body="Schon erledigt")
    activity_services.mark_done(done, actor=user)
    deleted = make_activity(actor=user, due_on=WINTER_DAY, body="Gelöscht")
    activity_services.delete_activity(deleted, actor=user)
    make_activity(actor=user, body="Nur eine Notiz, keine Wiedervorlage")
    make_activity(actor=colleague, subject=contact, due_on=WINTER_DAY,
                  body="Wiedervorlage des Kollegen")
    day = utcnow().date()
    trip = make_event(name="Delegationsreise Südkorea", kind="trip",
                      starts_on=(day + timedelta(days=30)).isoformat(),
                      ends_on=(day + timedelta(days=36)).isoformat(), city="Seoul",
                      country="KR", team_member_ids=[user.id, colleague.id])
    make_event(name="Business Breakfast Seoul", starts_on=(day - timedelta(days=5)).isoformat(),
               city="Seoul", country="KR", team_member_ids=[user.id])
    make_event(name="Veranstaltung des Kollegen", starts_on=(day + timedelta(days=3)).isoformat(),
               team_member_ids=[colleague.id])
    make_event(name="Längst vorbei", starts_on=(day - timedelta(days=400)).isoformat(),
               team_member_ids=[user.id])

    response = fetch(app, enable(client))
    calendar = parse(response)
    found = entries(calendar)

    assert set(found) == {"Wiedervorlage: Do-hyun Kim",
                          "Wiedervorlage: Testzentrum Fahrerassistenz",
                          "Delegationsreise Südkorea", "Business Breakfast Seoul"}
    assert [str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    winter = found["Wiedervorlage: Do-hyun Kim"]
    summer = found["Wiedervorlage: Testzentrum Fahrerassistenz"]
    assert str(winter["DESCRIPTION"]) == "Exposés für das Erfurter Kreuz schicken"
    assert str(summer["DESCRIPTION"]) == "Besichtigung vorbereiten"
    for entry, day_due, offset in ((winter, WINTER_DAY, 1), (summer, SUMMER_DAY, 2)):
        start = entry.decoded("DTSTART")
        assert isinstance(start, datetime)
        assert (start.date(), start.hour, start.minute) == (day_due, 9, 0)
        assert entry["DTSTART"].params["TZID"] == "Europe/Berlin"
        assert getattr(start.tzinfo, "key", str(start.tzinfo)) == "Europe/Berlin"
        assert start.utcoffset() == timedelta(hours=offset)
        assert entry.decoded("DTEND") > start
    assert "DTSTART;TZID=Europe/Berlin:20270115T090000" in response.get_data(as_text=True)
    assert "DTSTART;TZID=Europe/Berlin:20270715T090000" in response.get_data(as_text=True)

    whole_trip = found["Delegationsreise Südkorea"]
    start, end = whole_trip.decoded("DTSTART"), whole_trip.decoded("DTEND")
    assert not isinstance(start, datetime) and not isinstance(end, datetime)
    assert (start, end) == (trip.starts_on, trip.ends_on + timedelta(days=1))
    assert "Seoul" in str(whole_trip["LOCATION"])
    assert str(whole_trip["URL"]).endswith(f"/events/{trip.id}")
    breakfast = found["Business Breakfast Seoul"]
    assert breakfast.decoded("DTEND") - breakfast.decoded("DTSTART") == timedelta(days=1)
    assert len({str(entry["UID"]) for entry in found.values()}) == len(found)


def test_the_feed_holds_no_personal_data_of_other_users(app, login):
    user, client = login(name="Lea Schäfer", email="lea@lotse.example")
    colleague = make_user(name="Jonas Weber", email="jonas.weber@lotse.example")
    other_contact = make_contact(first_name="Nur", last_name="Beim Kollegen")
    make_activity(actor=colleague, subject=other_contact, due_on=WINTER_DAY,
                  body="Geheimnis des Kollegen")
    make_activity(actor=colleague, due_on=WINTER_DAY, assignee=user, body="Für Lea")
    make_event(name="Reise des Kollegen", starts_on=utcnow().date().isoformat(),
               team_member_ids=[colleague.id])
    make_event(name="Gemeinsame Reise", starts_on=utcnow().date().isoformat(),
               team_member_ids=[user.id, colleague.id])

    text = fetch(app, enable(client)).get_data(as_text=True)

    assert "Für Lea" in text and "Gemeinsame Reise" in text
    for foreign in ("Jonas", "Weber", "jonas.weber", "Geheimnis des Kollegen",
                    "Beim Kollegen", "Reise des Kollegen"):
        assert foreign not in text, foreign


def test_a_follow_up_on_a_lead_kept_from_me_stays_out_of_my_feed(app, login):
    user, client = login()
    owner = make_user()
    lead = make_lead(actor=owner, title="Vertrauliches Vorhaben", is_confidential=True,
                     team_member_ids=[user.id])
    make_activity(actor=owner, subject=lead, due_on=WINTER_DAY, assignee=user,
                  body="Standortangebot schicken")
    path = enable(client)
    assert "Vertrauliches Vorhaben" in fetch(app, path).get_data(as_text=True)

    lead_services.update_lead(lead, {"team_member_ids": []}, actor=owner)
    db.session.commit()

    text = fetch(app, path).get_data(as_text=True)
    assert "Vertrauliches Vorhaben" not in text and "Standortangebot" not in text


def test_a_follow_up_on_a_deleted_person_stays_out_of_my_feed(app, login):
    user, client = login()
    contact = make_contact(first_name="Gelöschte", last_name="Person")
    make_activity(actor=user, subject=contact, due_on=WINTER_DAY, body="Nachfassen")
    contact_services.delete_contact(contact, actor=user)
    db.session.commit()
    text = fetch(app, enable(client)).get_data(as_text=True)
    assert "Gelöschte" not in text and "Nachfassen" not in text


def test_the_entries_speak_the_users_language(app, login):
    user, client = login(language="en")
    make_activity(actor=user, subject=make_contact(first_name="Wei", last_name="Zhang"),
                  due_on=WINTER_DAY, body="Call back")
    found = entries(parse(fetch(app, enable(client))))
    assert set(found) == {"Follow-up: Wei Zhang"}


def test_a_new_address_ends_the_old_one(app, login):
    _user, client = login()
    old = enable(client)
    new = enable(client)
    assert new != old
    assert fetch(app, old).status_code == 404
    assert fetch(app, new).status_code == 200
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(
        AuditEntry.action == "user.calendar_renew")) == 1


def test_switching_off_ends_the_address(app, login):
    user, client = login()
    path = enable(client)
    response = client.post("/account/calendar", data={"action": "disable"})
    assert response.status_code == 302
    assert fetch(app, path).status_code == 404
    db.session.expire_all()
    assert user.calendar_token_hash is None


def test_a_deactivated_users_address_is_gone(app, login):
    user, client = login()
    make_activity(actor=user, due_on=WINTER_DAY, body="Offen")
    path = enable(client)
    auth_services.deactivate_user(db.session.merge(user), actor=None)
    db.session.commit()
    response = fetch(app, path)
    assert response.status_code == 404
    assert b"Offen" not in response.data


@pytest.mark.parametrize("secret", [
    "unknown", "cal_", "cal_" + secrets.token_urlsafe(32), "CAL_" + secrets.token_urlsafe(32),
    "cal_" + "a" * 300, "cal_%00", "cal_%20or%201%3D1", "..%2F..%2Fetc%2Fpasswd",
])
def test_a_malformed_or_unknown_secret_is_a_404(app, login, secret):
    _user, client = login()
    enable(client)
    response = fetch(app, f"/calendar/{secret}.ics")
    assert response.status_code == 404
    assert response.mimetype != "text/calendar"


def test_the_feed_needs_no_session_but_the_switch_does(app):
    response = app.test_client().post("/account/calendar", data={"action": "enable"})
    assert response.status_code in (302, 401)
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(
        AuditEntry.action.like("user.calendar%"))) == 0
