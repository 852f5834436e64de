from datetime import date

import pytest
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from crm.activities.models import Activity
from crm.audit.models import AuditEntry
from crm.contacts.models import Contact
from crm.core.services import DuplicateError, ValidationError
from crm.events import services
from crm.events.models import Attendance, Event
from crm.extensions import db
from crm.organisations.models import Organisation
from tests.factories import make_contact, make_event, make_organisation, make_user


@pytest.fixture
def trip(app):
    return make_event(name="Delegationsreise Südkorea", kind="trip", starts_on="2024-09-02",
                      ends_on="2024-09-06", country="KR")


def test_an_event_inside_a_trip(app, trip):
    gtai = make_organisation(name="Germany Trade & Invest", kind="partner")
    user = make_user()
    breakfast = make_event(name="Business Breakfast Seoul", starts_on="03.09.2024", city="Seoul",
                           country="KR", parent_id=trip.id, partner_ids=[gtai.id],
                           team_member_ids=[user.id])
    assert breakfast.parent == trip
    assert breakfast.ends_on == date(2024, 9, 3)  # one day when no end is given
    assert breakfast.partners == [gtai] and breakfast.team_members == [user]


@pytest.mark.parametrize(("data", "field"), [
    ({"name": ""}, "name"),
    ({"kind": "party"}, "kind"),
    ({"starts_on": ""}, "starts_on"),
    ({"starts_on": "31.02.2024"}, "starts_on"),
    ({"starts_on": "next tuesday"}, "starts_on"),
    ({"starts_on": "2024-09-05", "ends_on": "2024-09-04"}, "ends_on"),
    ({"country": "XX"}, "country"),
    ({"description": "x" * 1_000_000}, "description"),
    ({"partner_ids": [4242]}, "partner_ids"),
    ({"team_member_ids": [4242]}, "team_member_ids"),
    ({"attendees": [{"contact_id": 4242}]}, "attendees"),
    ({"attendees": [{"contact_id": 1, "status": "bored"}]}, "attendees"),
    ({"parent_id": 4242}, "parent_id"),
])
def test_bad_input_names_the_field_and_saves_nothing(app, data, field):
    with pytest.raises(ValidationError) as raised:
        services.create_event({"name": "Seminar", "kind": "investor_seminar",
                               "starts_on": "2024-09-04", **data}, actor=None)
    assert field in raised.value.fields
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Event.id))) == 0


@pytest.mark.parametrize(("starts_on", "ends_on"), [
    ("2024-09-01", "2024-09-01"), ("2024-09-06", "2024-09-07"), ("2024-08-01", "2024-10-01")])
def test_an_event_must_lie_within_its_trip(app, trip, starts_on, ends_on):
    with pytest.raises(ValidationError) as raised:
        make_event(parent_id=trip.id, starts_on=starts_on, ends_on=ends_on)
    assert "starts_on" in raised.value.fields


def test_a_trip_is_part_of_no_trip_not_even_itself(app, trip):
    with pytest.raises(ValidationError) as raised:
        services.update_event(trip, {"parent_id": trip.id}, actor=None)
    assert "parent_id" in raised.value.fields
    db.session.rollback()
    other = make_event(kind="trip", starts_on="2024-01-01", ends_on="2024-12-31")
    with pytest.raises(ValidationError):
        services.update_event(trip, {"parent_id": other.id}, actor=None)


def test_only_a_trip_holds_events(app):
    breakfast = make_event()
    with pytest.raises(ValidationError) as raised:
        make_event(parent_id=breakfast.id)
    assert "parent_id" in raised.value.fields


def test_a_trip_cannot_shrink_past_its_events_or_stop_being_a_trip(app, trip):
    make_event(name="Investorenseminar", parent_id=trip.id, starts_on="2024-09-05")
    with pytest.raises(ValidationError) as raised:
        services.update_event(trip, {"ends_on": "2024-09-04"}, actor=None)
    assert "Investorenseminar" in str(raised.value.fields["starts_on"][0])
    db.session.rollback()
    with pytest.raises(ValidationError) as raised:
        services.update_event(trip, {"kind": "networking"}, actor=None)
    assert "kind" in raised.value.fields


def test_attendees_have_a_status(app):
    event = make_event()
    contact = make_contact()
    services.set_attendance(event, contact, "registered", actor=None)
    services.set_attendance(event, contact, "met", actor=None)
    db.session.commit()
    assert [(a.contact_id, a.status) for a in event.attendances] == [(contact.id, "met")]
    with pytest.raises(ValidationError):
        services.set_attendance(event, contact, "vanished", actor=None)
    services.remove_attendance(event, contact, actor=None)
    db.session.commit()
    assert event.attendances == []


def test_capture_creates_person_organisation_attendance_and_note_at_once(app, trip):
    user = make_user()
    breakfast = make_event(parent_id=trip.id, name="Business Breakfast Seoul")
    contact = services.capture_person(breakfast, {
        "first_name": "민정", "last_name": "김", "email": "mj.kim@hyundai.example",
        "phone": "+82 2 3464 1114", "position": "Head of Strategy",
        "organisation": "Hyundai Motor Company",
        "note": "Interessiert an einem Standort bei Erfurt."}, actor=user,
        source="Getroffen bei Business Breakfast Seoul")
    db.session.commit()
    organisation = contact.affiliations[0].organisation
    assert organisation.name == "Hyundai Motor Company" and organisation.created_by_id == user.id
    assert contact.source == "Getroffen bei Business Breakfast Seoul"
    attendance = db.session.scalars(sa.select(Attendance)).one()
    assert (attendance.event_id, attendance.contact_id, attendance.status) == (
        breakfast.id, contact.id, "met")
    note = db.session.scalars(sa.select(Activity)).one()
    assert (note.contact_id, note.event_id, note.organisation_id, note.author_id) == (
        contact.id, breakfast.id, organisation.id, user.id)


def test_capture_picks_an_existing_organisation_by_id_or_by_a_matching_name(app):
    event = make_event()
    hyundai = make_organisation(name="Hyundai Motor Company")
    by_id = services.capture_person(event, {"last_name": "Park", "organisation": str(hyundai.id)},
                                    actor=None)
    by_name = services.capture_person(event, {"last_name": "Lee", "organisation": "HYUNDAI MOTOR"},
                                      actor=None)
    assert by_id.affiliations[0].organisation == by_name.affiliations[0].organisation == hyundai
    assert db.session.scalar(sa.select(sa.func.count(Organisation.id))) == 1


def test_capture_with_bad_input_saves_nothing(app):
    event = make_event()
    with pytest.raises(ValidationError) as raised:
        services.capture_person(event, {"last_name": "", "email": "nope",
                                        "organisation": "Neue Firma"}, actor=None)
    assert {"last_name", "email"} <= set(raised.value.fields)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Contact.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Organisation.id))) == 0


def test_capture_of_a_known_email_asks_first(app):
    event = make_event()
    make_contact(email="known@lg.example")
    with pytest.raises(DuplicateError):
        services.capture_person(event, {"last_name": "Known", "email": "known@lg.example"},
                                actor=None)


# The cost of an event or trip.

NEGATIVE = "The number must not be negative."
NOT_A_NUMBER = "Enter a number such as 12.500.000 or 12,5 Mio."
TOO_LARGE = "This number is too large."


@pytest.mark.parametrize("cost", [38500, "38500", "38.500", "38.500 €", "38.500,00 EUR",
                                  "38,5 Tsd.", " 38 500 "])
def test_a_cost_is_read_as_a_german_user_types_it(app, cost):
    assert make_event(kind="trip", starts_on="2025-05-18", cost_eur=cost).cost_eur == 38_500


@pytest.mark.parametrize("cost", [0, 100_000_000])
def test_a_cost_may_be_nothing_or_up_to_a_hundred_million(app, cost):
    assert make_event(cost_eur=cost).cost_eur == cost


@pytest.mark.parametrize(("cost", "message"), [
    (-5, NEGATIVE), ("-5", NEGATIVE), ("-1.000 €", NEGATIVE),
    ("abc", NOT_A_NUMBER), ("1e9", NOT_A_NUMBER), ("38,55", NOT_A_NUMBER),
    (True, NOT_A_NUMBER), (38500.5, NOT_A_NUMBER),
    (10**12, TOO_LARGE), (100_000_001, TOO_LARGE), ("2 Mrd.", TOO_LARGE), (1e9, TOO_LARGE),
])
def test_a_bad_cost_names_the_field_and_changes_nothing(app, trip, cost, message):
    with pytest.raises(ValidationError) as raised:
        services.create_event({"name": "Seminar", "kind": "investor_seminar",
                               "starts_on": "2024-09-04", "cost_eur": cost}, actor=None)
    assert [str(m) for m in raised.value.fields["cost_eur"]] == [str(_l(message))]
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Event.id))) == 1
    services.update_event(trip, {"cost_eur": 38_500}, actor=None)
    db.session.commit()
    with pytest.raises(ValidationError) as raised:
        services.update_event(trip, {"cost_eur": cost, "city": "Seoul"}, actor=None)
    assert set(raised.value.fields) == {"cost_eur"}
    db.session.rollback()
    assert (trip.cost_eur, trip.city, trip.version) == (38_500, None, 2)


def test_a_cost_change_is_audited_under_its_label_and_empty_clears_it(app, trip):
    user = make_user()
    services.update_event(trip, {"cost_eur": "38.500 €"}, actor=user)
    services.update_event(trip, {"cost_eur": ""}, actor=user)
    db.session.commit()
    assert trip.cost_eur is None
    entries = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "event.update").order_by(AuditEntry.id)).all()
    assert [e.changes for e in entries] == [{"cost_eur": [None, 38_500]},
                                            {"cost_eur": [38_500, None]}]
    [(label, before, after)] = entries[0].labelled_changes()
    assert (label, before, after) == (str(_l("Cost (EUR)")), None, 38_500)
    # Saving the same cost again is no change.
    services.update_event(trip, {"cost_eur": None}, actor=user)
    assert trip.version == 3
