"""Loading the demo data, idempotently, through the services of each area (so that the audit log,
the owners and the derived keys are as if the team had typed it in)."""

from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from crm.activities import services as activity_services
from crm.activities.models import Activity
from crm.auth import services as auth_services
from crm.auth.models import User
from crm.contacts import services as contact_services
from crm.core.models import utcnow
from crm.demo.data import EVENTS, KATRIN, ORGANISATIONS, TEAM
from crm.demo.leads import LEADS
from crm.demo.people import CONTACTS, NOTES
from crm.events import services as event_services
from crm.events.models import Attendance, Event
from crm.extensions import db
from crm.leads import services as lead_services
from crm.leads.models import Lead, Stage
from crm.organisations import services as organisation_services

CONTACT_FIELDS = ("first_name", "last_name", "latin_name", "academic_title", "position", "email",
                  "phone", "mobile", "language", "legal_basis", "source", "informed_on",
                  "marketing_consent", "do_not_contact", "tags")
EVENT_FIELDS = ("name", "kind", "starts_on", "ends_on", "city", "country", "description",
                "cost_eur")
# What the project manager enters only when a lead is about to enter a stage (what that stage
# requires, and what comes with it); everything else is entered with the lead.
LEAD_FIELDS_FOR_STAGE = {
    Stage.PROSPECT: ("investment_type", "business_activity", "capex_eur", "capex_is_estimate",
                     "capex_unknown", "new_jobs", "new_jobs_is_estimate", "new_jobs_unknown",
                     "expected_decision_on", "candidate_sites", "competing_locations"),
    Stage.ACTIVE: ("likelihood",),
    Stage.DECISION: ("safeguarded_jobs", "safeguarded_jobs_is_estimate",
                     "safeguarded_jobs_unknown", "chosen_site", "decided_on"),
}
LEAD_FIELDS = ("title", "sector", "country", "is_new_investor", "description", "source",
               "is_confidential", *(f for fields in LEAD_FIELDS_FOR_STAGE.values() for f in fields))
# The time of day (UTC) given to the day-only dates of the demo's stage changes.
MOVED_AT = time(9, 0)


def database_is_empty():
    return db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def seed_demo():
    """Add whatever of the demo data is missing. Returns what was added, by kind."""
    added = dict.fromkeys(("users", "organisations", "contacts", "events", "attendances",
                           "leads", "activities"), 0)
    for person in TEAM:
        if auth_services.get_user_by_email(person["email"]) is None:
            # Demo colleagues own records; nobody knows their password until an admin resets it.
            auth_services.create_user(**person, actor=None)
            added["users"] += 1
    for item in ORGANISATIONS:
        added["organisations"] += _add_organisation(item)
    for item in CONTACTS:
        added["contacts"] += _add_contact(item)
    for item, trip in _all_events():
        event, created = _add_event(item, trip=trip)
        added["events"] += created
        added["attendances"] += _add_attendances(event, item)
    for item in NOTES:
        added["activities"] += _add_note(item)
    for item in LEADS:
        lead, created = _add_lead(item)
        added["leads"] += created
        for note in item.get("notes", []):
            added["activities"] += _add_lead_note(lead, note)
    return added


def _user(email):
    return auth_services.get_user_by_email(email)


def _organisation(name):
    found = organisation_services.find_duplicates(name, limit=1)
    return found[0] if found else None


def _contact(email):
    found = contact_services.find_duplicates(email, limit=1)
    return found[0] if found else None


def _event(name, starts_on=None):
    query = sa.select(Event).where(Event.name == name, Event.deleted_at.is_(None))
    if starts_on is not None:
        query = query.where(Event.starts_on == date.fromisoformat(starts_on))
    return db.session.scalars(query.order_by(Event.id).limit(1)).first()


def _add_organisation(item):
    if _organisation(item["name"]) is not None:
        return 0
    data = {key: value for key, value in item.items() if key not in ("by", "parent")}
    if "parent" in item:
        data["parent_id"] = _organisation(item["parent"]).id
    organisation_services.create_organisation(data, actor=_user(item["by"]))
    return 1


def _add_contact(item):
    if _contact(item["email"]) is not None:
        return 0
    data = {key: item[key] for key in CONTACT_FIELDS if key in item}
    data["affiliations"] = [
        {"organisation_id": _organisation(item["organisation"]).id, "role": item["position"],
         "is_current": True},
        *({"organisation_id": _organisation(former["organisation"]).id, "role": former["role"],
           "is_current": False} for former in item.get("former", [])),
    ]
    contact_services.create_contact(data, actor=_user(item["by"]))
    return 1


def _all_events():
    """Each event with the trip it is part of (None for a trip or an event on its own); an
    event of a trip has the trip's country, creator and team unless it names its own."""
    for item in EVENTS:
        yield item, None
        for part in item.get("events", []):
            yield {"country": item["country"], "by": item["by"], "team": item["team"],
                   **part}, item


def _add_event(item, *, trip):
    """The event, created unless it exists; returns `(event, whether it was created)`."""
    event = _event(item["name"], item["starts_on"])
    if event is not None:
        return event, 0
    data = {key: item[key] for key in EVENT_FIELDS if key in item}
    data["parent_id"] = _event(trip["name"], trip["starts_on"]).id if trip else None
    data["partner_ids"] = [_organisation(name).id for name in item.get("partners", [])]
    data["team_member_ids"] = [_user(email).id for email in item.get("team", [])]
    return event_services.create_event(data, actor=_user(item["by"])), 1


def _add_attendances(event, item):
    """Record the attendees the event does not have yet (a changed status is left alone)."""
    present = set(db.session.scalars(
        sa.select(Attendance.contact_id).where(Attendance.event_id == event.id)))
    added = 0
    for email, status in item.get("attendees", {}).items():
        contact = _contact(email)
        if contact is not None and contact.id not in present:
            event_services.set_attendance(event, contact, status, actor=_user(item["by"]))
            added += 1
    return added


def _add_note(item):
    exists = db.session.scalar(sa.select(Activity.id).where(
        Activity.body == item["body"], Activity.deleted_at.is_(None)).limit(1))
    if exists is not None:
        return 0
    contact = _contact(item["contact"])
    workplace = next(iter(contact.current_affiliations), None)
    if "at" in item:
        occurred_at = datetime.fromisoformat(item["at"])
    else:
        occurred_at = utcnow() - timedelta(days=item["days_ago"])
    due_on = None
    if "due_in_days" in item:
        due_on = utcnow().date() + timedelta(days=item["due_in_days"])
    elif "due_on" in item:
        due_on = date.fromisoformat(item["due_on"])
    assignee = _user(item.get("assignee", item["by"]))
    activity = activity_services.create_activity(
        kind=item["kind"], body=item["body"], actor=_user(item["by"]), contact=contact,
        organisation=workplace.organisation if workplace else None,
        event=_event(item["event"]) if "event" in item else None, occurred_at=occurred_at,
        due_on=due_on, assignee=assignee)
    if "done_at" in item or "done_days_ago" in item:
        _mark_done(activity, assignee, item)
    return 1


def _mark_done(activity, assignee, item):
    """Tick the follow-up off as its assignee did, on the demo's day (the service records the
    moment it runs)."""
    activity_services.mark_done(activity, actor=assignee)
    if "done_at" in item:
        activity.done_at = datetime.fromisoformat(item["done_at"])
    else:
        activity.done_at = utcnow() - timedelta(days=item["done_days_ago"])
    db.session.flush()


def _lead(title, organisation):
    return db.session.scalars(sa.select(Lead).where(
        Lead.title == title, Lead.organisation_id == organisation.id,
        Lead.deleted_at.is_(None)).order_by(Lead.id).limit(1)).first()


def _add_lead(item):
    """The lead, created unless it exists; returns `(lead, whether it was created)`.

    It is entered as the team would: by its owner, with what is known at first; the figures a
    stage requires are filled in just before the lead is moved there; the owner moves it (a
    manager confirms a win or overrides a requirement), then sets its status. The history rows
    get the days of the demo data.
    """
    organisation = _organisation(item["organisation"])
    lead = _lead(item["title"], organisation)
    if lead is not None:
        return lead, 0
    owner, manager = _user(item["by"]), _user(KATRIN)
    data = {key: item[key] for key in LEAD_FIELDS if key in item}
    later = {stage: {key: data.pop(key) for key in fields if key in data}
             for stage, fields in LEAD_FIELDS_FOR_STAGE.items()}
    data.update(
        organisation_id=organisation.id, owner_id=owner.id,
        team_member_ids=[_user(email).id for email in item.get("team", [])],
        contact_ids=[_contact(email).id for email in item.get("contacts", [])],
        source_event_id=_event(item["source_event"]).id if "source_event" in item else None,
        referral_partner_id=(_organisation(item["referral_partner"]).id
                             if "referral_partner" in item else None))
    (_lead_stage, entered_on), *moves = item["stages"]
    lead = lead_services.create_lead(data, actor=owner)
    _date_last_change(lead, entered_on)
    overrides = item.get("overrides", {})
    for stage, moved_on in moves:
        fields = later.pop(Stage(stage), {})
        if fields:
            lead_services.update_lead(lead, fields, actor=owner)
        by_manager = stage == Stage.WON.value or stage in overrides
        lead_services.change_stage(lead, stage, actor=manager if by_manager else owner,
                                   override_reason=overrides.get(stage))
        _date_last_change(lead, moved_on)
    rest = {key: value for fields in later.values() for key, value in fields.items()}
    if rest:
        lead_services.update_lead(lead, rest, actor=owner)
    if "status" in item:
        status = item["status"]
        closing = "reason" in status  # lost or abandoned, on that day
        lead_services.change_status(lead, status["status"], actor=owner,
                                    reason=status.get("reason"),
                                    closed_on=status["on"] if closing else None,
                                    lost_to=status.get("lost_to"))
        _date_last_change(lead, status["on"])
    return lead, 1


def _date_last_change(lead, day):
    """Give the lead's newest stage change the demo's day (the services record the moment
    they run); a move sets the time in the stage, a win its confirmation, from it too."""
    moment = datetime.combine(date.fromisoformat(day), MOVED_AT, tzinfo=UTC)
    change = lead.stage_changes[-1]
    change.changed_at = moment
    if change.is_stage_move:
        lead.stage_entered_at = moment
    if change.to_stage == Stage.WON.value and change.from_stage != Stage.WON.value:
        lead.won_confirmed_at = moment
    db.session.flush()


def _add_lead_note(lead, item):
    """A note on the lead (and, unless the lead is confidential, on the contact and the
    organisation it is about), unless one with its text exists."""
    exists = db.session.scalar(sa.select(Activity.id).where(
        Activity.body == item["body"], Activity.deleted_at.is_(None)).limit(1))
    if exists is not None:
        return 0
    contact = _contact(item["contact"]) if "contact" in item else None
    if "at" in item:
        occurred_at = datetime.fromisoformat(item["at"])
    else:
        occurred_at = utcnow() - timedelta(days=item["days_ago"])
    due_on = None
    if "due_in_days" in item:
        due_on = utcnow().date() + timedelta(days=item["due_in_days"])
    public = not lead.is_confidential
    activity_services.create_activity(
        kind=item["kind"], body=item["body"], actor=_user(item["by"]), lead=lead,
        organisation=lead.organisation if public else None,
        contact=contact if public else None, occurred_at=occurred_at, due_on=due_on,
        assignee=_user(item.get("assignee", item["by"])))
    return 1
