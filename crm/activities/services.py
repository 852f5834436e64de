"""Activities: recording what happened, and what must follow.

An activity is about one or more records (an organisation, a contact, an event, a lead); with a
due date it is a follow-up for someone (its author unless said otherwise), open until done.
Whether the actor may see the records is checked by the callers (`crm.auth.permissions`).
"""

import re
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from crm.activities.models import Activity, ActivityKind
from crm.activities.queries import met_without_activity_since
from crm.audit.services import diff, record
from crm.auth.models import User
from crm.core.models import UTCDateTime, local_zone, utcnow
from crm.core.services import (
    NotFoundError,
    ValidationError,
    check_fields,
    check_version,
    restore,
    soft_delete,
    touch,
)
from crm.core.validation import LONG_TEXT_MAX, Checker
from crm.extensions import db
from crm.leads.models import Lead

FIELDS = ("kind", "body", "occurred_at", "due_on", "assignee_id")
SUBJECTS = ("organisation", "contact", "event", "lead")


def get_activity(activity_id, *, include_deleted=False):
    activity = db.session.get(Activity, activity_id)
    if activity is None or (activity.deleted_at is not None and not include_deleted):
        raise NotFoundError(_l("There is no such activity."))
    return activity


def snapshot(activity):
    return {"kind": activity.kind, "body": activity.body, "occurred_at": activity.occurred_at,
            "due_on": activity.due_on, "assignee_id": activity.assignee_id,
            "done_at": activity.done_at}


def create_activity(*, kind=ActivityKind.NOTE.value, body, actor, organisation=None,
                    contact=None, event=None, lead=None, occurred_at=None, due_on=None,
                    assignee=None, assignee_id=None):
    """A note, call, meeting, email or visit by `actor` on one or more records.

    With `due_on` it is a follow-up, assigned to `assignee` (or `assignee_id`), else to its
    author. `occurred_at` defaults to now; a local date and time is read in the user's zone.
    """
    subjects = {"organisation": organisation, "contact": contact, "event": event, "lead": lead}
    if all(s is None for s in subjects.values()):
        raise ValidationError(_l("An activity needs a record it is about."))
    if contact is not None and contact.erased_at is not None:
        raise ValidationError(_l("This person's data has been erased; nothing can be added."))
    if assignee is not None:
        assignee_id = assignee.id
    clean = _clean({"kind": kind, "body": body, "occurred_at": occurred_at, "due_on": due_on,
                    "assignee_id": assignee_id}, author=actor)
    activity = Activity(author_id=_id(actor), **subjects, **clean)
    db.session.add(activity)
    db.session.flush()
    note_last_activity(activity, added=True)
    record("activity.create", actor=actor, record=activity, label=_label(activity),
           changes=diff({}, snapshot(activity)))
    return activity


def update_activity(activity, data, *, actor, expected_version=None):
    """Change kind, text, time, due date or assignee."""
    check_version(activity, expected_version)
    check_fields(data, FIELDS)
    before = snapshot(activity)
    merged = {**{k: before[k] for k in FIELDS}, **data}
    if "assignee_id" not in data and "due_on" in data and data["due_on"] and \
            activity.assignee_id is None:
        merged["assignee_id"] = activity.author_id
    clean = _clean(merged, author=actor)
    for field, value in clean.items():
        setattr(activity, field, value)
    changes = diff(before, snapshot(activity))
    if changes:
        touch(activity)
        db.session.flush()
        note_last_activity(activity)
        record("activity.update", actor=actor, record=activity, label=_label(activity),
               changes=changes)
    return activity


def delete_activity(activity, *, actor):
    if activity.deleted_at is None:
        soft_delete(activity)
        db.session.flush()
        note_last_activity(activity)
        record("activity.delete", actor=actor, record=activity, label=_label(activity))
    return activity


def note_last_activity(activity, *, added=False):
    """Bring the lead's `last_activity_at` in step with its activities after one changed.

    Set in SQL, leaving the lead's version and `updated_at` alone: an activity is not an edit
    of the lead, and must not turn a colleague's open edit of it into a conflict. A new activity
    only moves the mark forward, compared with the row as it is once locked, so two added at
    the same time cannot leave the earlier one behind; a changed or deleted one recounts."""
    if activity.lead_id is None:
        return
    if added:
        moment = sa.literal(activity.occurred_at, UTCDateTime())
        latest = sa.case((sa.or_(Lead.last_activity_at.is_(None),
                                 Lead.last_activity_at < moment), moment),
                         else_=Lead.last_activity_at)
    else:
        latest = (sa.select(sa.func.max(Activity.occurred_at))
                  .where(Activity.lead_id == activity.lead_id, Activity.deleted_at.is_(None))
                  .scalar_subquery())
    db.session.execute(sa.update(Lead).where(Lead.id == activity.lead_id)
                       .values(last_activity_at=latest, updated_at=Lead.updated_at)
                       .execution_options(synchronize_session="fetch"))


def restore_activity(activity, *, actor):
    """Undo `delete_activity` (admins): the activity is back in its timelines."""
    if activity.deleted_at is not None:
        restore(activity)
        db.session.flush()
        note_last_activity(activity)
        record("activity.restore", actor=actor, record=activity, label=_label(activity))
    return activity


def mark_done(activity, *, actor):
    """Tick off a follow-up, remembering who did and when."""
    if activity.due_on is None:
        raise ValidationError(_l("Only a follow-up can be marked as done."))
    if activity.done_at is None:
        activity.done_at, activity.done_by_id = utcnow(), _id(actor)
        touch(activity)
        record("activity.done", actor=actor, record=activity, label=_label(activity))
    return activity


def mark_open(activity, *, actor):
    """Undo `mark_done`."""
    if activity.done_at is not None:
        activity.done_at = activity.done_by_id = None
        touch(activity)
        record("activity.reopen", actor=actor, record=activity, label=_label(activity))
    return activity


def add_working_days(start, days):
    """The date `days` working days (Monday to Friday) after `start`."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def _clean(data, *, author):
    check = Checker(data)
    clean = {
        "kind": check.choice("kind", ActivityKind, required=True),
        "body": check.text("body", max_length=LONG_TEXT_MAX, required=True, multiline=True),
        "occurred_at": _moment(check, "occurred_at"),
        "due_on": check.day("due_on"),
        "assignee_id": check.record_id("assignee_id"),
    }
    if clean["due_on"] is None:
        clean["assignee_id"] = None  # a note without a due date is for nobody in particular
    elif clean["assignee_id"] is None and "assignee_id" not in check.errors:
        clean["assignee_id"] = _id(author)
    if clean["assignee_id"] is not None and "assignee_id" not in check.errors:
        assignee = db.session.get(User, clean["assignee_id"])
        if assignee is None or not assignee.is_active:
            check.fail("assignee_id", _l("Choose an active team member."))
    check.done()
    if clean["occurred_at"] is None:
        clean["occurred_at"] = utcnow()
    return clean


_MOMENT = re.compile(
    r"(?:(?P<iso>\d{4}-\d{2}-\d{2})|(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4}))"
    r"(?:[T ](?P<hour>\d{1,2}):(?P<minute>\d{2}))?")


def _moment(check, field):
    """A moment: an aware datetime, or `2026-11-21T10:30` / `21.11.2026 10:30` in the user's
    time zone (a date alone means its start). Not more than a day in the future."""
    value = check.data.get(field)
    if value is None or value == "":
        return None
    moment = None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and (match := _MOMENT.fullmatch(value.strip())):
        try:
            day = (date.fromisoformat(match["iso"]) if match["iso"]
                   else date(int(match["y"]), int(match["m"]), int(match["d"])))
            clock = time(int(match["hour"] or 0), int(match["minute"] or 0))
            moment = datetime.combine(day, clock)
        except ValueError:
            moment = None
    if moment is None:
        check.fail(field, _l("Enter a date and time such as 21.11.2026 10:30."))
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=local_zone())
    if moment > utcnow() + timedelta(days=1) or moment.year < 1990:
        check.fail(field, _l("An activity happened, so its time is not in the future."))
        return None
    return moment


def _label(activity):
    return str(activity)[:300]


def _id(actor):
    return getattr(actor, "id", None)



def event_end(event):
    """The moment an event is over: the start of the day after its last day, in the agency's
    time zone."""
    return datetime.combine(event.ends_on + timedelta(days=1), time(0, 0), tzinfo=local_zone())


def follow_up_everyone_met(event, *, body, actor, today, working_days, assign_to_actor=False):
    """A follow-up for each person met at `event` without any activity since it ended, due
    `working_days` working days after the event (not before today), for the colleague who
    recorded meeting them (if active) or for `actor`. Returns the follow-ups made."""
    due = max(add_working_days(event.ends_on, working_days), today)
    made = []
    for attendance in db.session.scalars(met_without_activity_since(event, event_end(event))):
        who_met = db.session.get(User, attendance.created_by_id) if attendance.created_by_id \
            else None
        assignee = actor if assign_to_actor or who_met is None or not who_met.is_active \
            else who_met
        made.append(create_activity(kind=ActivityKind.NOTE.value, body=body, actor=actor,
                                    contact=attendance.contact, event=event, due_on=due,
                                    assignee=assignee))
    return made
