"""Notes and follow-ups in the API: the `activities` resource.

An activity is about one or more records (an organisation, a contact, an event, a lead). One on
a confidential lead the user may not see, or on a deleted lead or person, does not exist for
them (404), as in `crm.activities.queries`; nor can one be recorded on such a record. Its
author, managers and admins change and delete it; anyone who sees a follow-up may tick it off
or open it again (`done`). The list is paged by id, like every other list of the API.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from flask import abort, jsonify
from flask_babel import lazy_gettext as _l

from crm.activities import services as activity_services
from crm.activities.models import Activity, ActivityKind
from crm.activities.queries import visible_activities
from crm.api.resources import (
    READ_ONLY,
    Forbidden,
    Resource,
    arguments,
    check_shape,
    choice_of,
    committed_json,
    day_arg,
    flag_arg,
    read_body,
    record_fields,
    record_id_arg,
    refuse_read_only,
    take_version,
)
from crm.auth.permissions import (
    Permission,
    can_edit_activity,
    can_view_lead,
    current_actor,
    record_or_404,
    require,
)
from crm.contacts import services as contact_services
from crm.core.services import NotFoundError, ValidationError, check_fields, check_version
from crm.core.validation import Checker
from crm.events import services as event_services
from crm.leads import services as lead_services
from crm.organisations import services as organisation_services

SUBJECT_GETTERS = {"organisation": organisation_services.get_organisation,
                   "contact": contact_services.get_contact,
                   "event": event_services.get_event,
                   "lead": lead_services.get_lead}
SUBJECT_FIELDS = tuple(f"{name}_id" for name in activity_services.SUBJECTS)
# Shown on every activity; set by the services (the author, and who ticked it off when).
ACTIVITY_READ_ONLY = (*READ_ONLY, "author_id", "done_at", "done_by_id")
CREATE_FIELDS = (*activity_services.FIELDS, *SUBJECT_FIELDS)
# What an activity is about is fixed once it is recorded.
UPDATE_FIELDS = (*activity_services.FIELDS, "done")
MAX_SEARCH_WORDS = 8


def activity_json(activity):
    return {
        **record_fields(activity),
        "kind": activity.kind,
        "body": activity.body,
        "occurred_at": activity.occurred_at.astimezone(UTC).isoformat(),
        "author_id": activity.author_id,
        **{field: getattr(activity, field) for field in SUBJECT_FIELDS},
        "due_on": activity.due_on.isoformat() if activity.due_on else None,
        "assignee_id": activity.assignee_id,
        "done_at": activity.done_at.astimezone(UTC).isoformat() if activity.done_at else None,
        "done_by_id": activity.done_by_id,
    }


def can_view_activity(user, activity):
    """What `visible_activities` says in SQL, for one activity: not on a deleted person, and
    not on a lead the user may not see (or that is deleted)."""
    lead, contact = activity.lead, activity.contact
    return ((lead is None or (not lead.is_deleted and can_view_lead(user, lead)))
            and (contact is None or not contact.is_deleted))


def _activity_list(q=None, *, organisation_id=None, contact_id=None, event_id=None,
                   lead_id=None, kind=None, assignee_id=None, due_from=None, due_to=None,
                   done=None, follow_ups=False):
    """The activities the acting user may see, with the list's filters.

    `q` finds words in the text, ignoring case: activities have no folded search column, so
    umlaut spellings and accents are not folded as elsewhere. The words are lowered here
    because SQLite's lower() knows only A to Z (so `BROSCHÜRE` finds `Broschüre`; a capital
    umlaut in the text itself, as in `Übergabe`, is found only on PostgreSQL or as written).
    """
    query = sa.select(Activity).where(visible_activities(current_actor()))
    for column, value in ((Activity.organisation_id, organisation_id),
                          (Activity.contact_id, contact_id), (Activity.event_id, event_id),
                          (Activity.lead_id, lead_id), (Activity.kind, kind),
                          (Activity.assignee_id, assignee_id)):
        if value is not None:
            query = query.where(column == value)
    if q:
        query = query.where(*[Activity.body.icontains(word.lower(), autoescape=True)
                              for word in q.split()[:MAX_SEARCH_WORDS]])
    if due_from is not None:
        query = query.where(Activity.due_on >= due_from)
    if due_to is not None:
        query = query.where(Activity.due_on <= due_to)
    if done is True:
        query = query.where(Activity.done_at.isnot(None))
    elif done is False:
        query = query.where(Activity.due_on.isnot(None), Activity.done_at.is_(None))
    if follow_ups:
        query = query.where(Activity.due_on.isnot(None))
    return query


def _done_arg(check, name):
    """true (done follow-ups), false (open ones), or None when not given (everything)."""
    return check.boolean(name, default=None)


def _moment(value):
    """ISO 8601 text as a datetime, with or without seconds and offset
    (`2026-03-05T10:30:00+01:00`, `2026-03-05T09:30:00Z`, `2026-03-05T10:30`): the services
    read only minutes and no offset. Anything else goes to them as sent; they read the German
    spelling and name what is wrong. A datetime without offset is the agency's local time."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            return value
    return value


def _subjects(data, actor):
    """The records the new activity is about, by their ids in `data`: 422 for an id that
    cannot be one or when none is given, 404 (naming the field) for a record that does not
    exist, is deleted, or is a confidential lead kept from the user."""
    check = Checker(data)
    ids = {name: check.record_id(f"{name}_id") for name in SUBJECT_GETTERS}
    check.done()
    if all(record_id is None for record_id in ids.values()):
        message = _l("An activity needs a record it is about.")
        raise ValidationError(message, fields={field: [message] for field in SUBJECT_FIELDS})
    subjects = {}
    for name, record_id in ids.items():
        if record_id is None:
            continue
        try:
            record = SUBJECT_GETTERS[name](record_id)
            if name == "lead" and not can_view_lead(actor, record):
                raise NotFoundError(_l("There is no such lead."))  # as if it did not exist
        except NotFoundError as error:
            raise NotFoundError(error.message, fields={f"{name}_id": [error.message]}) from None
        subjects[name] = record
    return subjects


def _create(data, *, actor):
    check_fields(data, CREATE_FIELDS)
    subjects = _subjects(data, actor)
    kind = data.get("kind")
    return activity_services.create_activity(
        kind=ActivityKind.NOTE.value if kind is None else kind, body=data.get("body"),
        occurred_at=_moment(data.get("occurred_at")), due_on=data.get("due_on"),
        assignee_id=data.get("assignee_id"), actor=actor, **subjects)


def _update(activity, data, *, actor, expected_version=None):
    """Change the fields given; `done` ticks the follow-up off or opens it again, after them
    (so that one request may set a due date and tick it off)."""
    check_fields(data, UPDATE_FIELDS)
    done = None
    if "done" in data:
        check = Checker(data)
        done = check.boolean("done", default=None)
        if done is None and "done" not in check.errors:
            check.fail("done", _l("Give yes or no."))
        check.done()
    edits = {name: _moment(value) if name == "occurred_at" else value
             for name, value in data.items() if name != "done"}
    if edits and not can_edit_activity(actor, activity):
        raise Forbidden(_l("Only its author, managers and admins change an activity; anyone "
                           "who sees a follow-up may mark it done."))
    check_version(activity, expected_version)
    if edits:
        activity_services.update_activity(activity, edits, actor=actor,
                                          expected_version=expected_version)
    if done is not None:
        tick = activity_services.mark_done if done else activity_services.mark_open
        try:
            tick(activity, actor=actor)
        except ValidationError as error:
            raise ValidationError(error.message, fields={"done": [error.message]}) from None
    return activity


ACTIVITIES = Resource(
    name="activities", singular="activity", id_arg="activity_id", model=Activity,
    fields=(*CREATE_FIELDS, "done"),
    get=activity_services.get_activity,
    create=_create,
    update=_update,
    delete=activity_services.delete_activity,
    restore=activity_services.restore_activity,
    to_json=activity_json,
    list_query=_activity_list,
    sorts={"occurred_at": [Activity.occurred_at], "due_on": [Activity.due_on]},
    filters={"organisation": ("organisation_id", record_id_arg),
             "contact": ("contact_id", record_id_arg),
             "event": ("event_id", record_id_arg),
             "lead": ("lead_id", record_id_arg),
             "kind": ("kind", choice_of(ActivityKind)),
             "assignee": ("assignee_id", record_id_arg),
             "due_from": ("due_from", day_arg),
             "due_to": ("due_to", day_arg),
             "done": ("done", _done_arg),
             "follow_ups": ("follow_ups", flag_arg)},
    read_only=ACTIVITY_READ_ONLY,
    can_view=can_view_activity,
    can_edit=can_edit_activity,
)


@require(Permission.EDIT_RECORDS)
def update_response(activity_id):
    """PATCH an activity. Unlike the other resources, whether the user may change it depends
    on the body: anyone who sees it may send `done`, only its author, managers and admins the
    other fields (403)."""
    arguments(set())
    activity = record_or_404(ACTIVITIES.get, activity_id, writing=True)
    actor = current_actor()
    if not can_view_activity(actor, activity):
        abort(404)
    data = read_body()
    version = take_version(data)
    refuse_read_only(data, (*ACTIVITY_READ_ONLY, *SUBJECT_FIELDS))
    check_shape(data, ACTIVITIES)
    _update(activity, data, actor=actor, expected_version=version)
    return jsonify(committed_json(activity_json, activity))
