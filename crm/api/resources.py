"""The API's records: how organisations, contacts and events look as JSON, how a request's
arguments and body are read, and the steps every resource shares (list, create, read, change,
delete). Each step calls the area's queries and services, which hold the rules. Leads, which
also have their own permissions and endpoints, are in `crm.api.leads`; activities, whose
changes are allowed by what they change, in `crm.api.activities`.
"""

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from flask import Response, abort, jsonify, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from crm.auth.permissions import Permission, current_actor, record_or_404, require
from crm.contacts import queries as contact_queries
from crm.contacts import services as contact_services
from crm.contacts.models import CONTACT_LANGUAGES, Contact
from crm.core.lists import DEFAULT_PER_PAGE, MAX_PER_PAGE, MAX_TEXT_ARG, ordered
from crm.core.routing import MAX_ID
from crm.core.services import ServiceError, ValidationError
from crm.core.validation import Checker, encodable
from crm.events import queries as event_queries
from crm.events import services as event_services
from crm.events.models import Event, EventKind
from crm.extensions import db
from crm.organisations import queries as organisation_queries
from crm.organisations import services as organisation_services
from crm.organisations.models import Organisation, OrganisationKind, Sector

# Fields every record shows but no client sets; `version` is sent only with a PATCH.
READ_ONLY = ("id", "created_at", "updated_at", "deleted_at", "version", "display_name")
MAX_CURSOR = 200
MAX_OFFSET = 10_000_000  # how far a sorted list can be paged


class BadRequest(ServiceError):
    """The request itself is unusable: not a JSON object, or a query argument that is wrong."""

    code = "bad_request"
    status = 400


class Forbidden(ServiceError):
    """The user may see the record but not change it."""

    code = "forbidden"
    status = 403


# Query arguments. Each reader takes a Checker over the arguments and a name, like the
# Checker's own methods, so that every wrong argument is named at once.


def choice_of(values):
    return lambda check, name: check.choice(name, values)


def country_arg(check, name):
    return check.country(name)


def record_id_arg(check, name):
    return check.record_id(name)


def flag_arg(check, name):
    return check.boolean(name)


def day_arg(check, name):
    return check.day(name)


def _tag(check, name):
    return check.text(name, max_length=50)


def _year(check, name):
    value = check.data.get(name)
    if value in (None, ""):
        return None
    if not (len(value) == 4 and value.isdecimal() and value.isascii()
            and 1900 <= int(value) <= 2200):
        check.fail(name, _l("Give a year from 1900 to 2200."))
        return None
    return int(value)


def _limit(check):
    value = check.data.get("limit")
    if value in (None, ""):
        return DEFAULT_PER_PAGE
    # The length first: int() of thousands of digits is refused by Python itself.
    if not (len(value) <= 3 and value.isdecimal() and value.isascii()
            and 1 <= int(value) <= MAX_PER_PAGE):
        check.fail("limit", _l("Give a whole number from 1 to %(max)s.", max=MAX_PER_PAGE))
        return DEFAULT_PER_PAGE
    return int(value)


def encode_cursor(last_id=None, *, sort=None, offset=None):
    """An opaque cursor: for the page after the record `last_id` (pages by id), or, in a
    `sort` order, for the page that starts at `offset`."""
    position = {"after": last_id} if sort is None else {"sort": sort, "offset": offset}
    text = json.dumps(position, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _cursor(check, sort):
    """Where the page starts: the id after which (pages by id, 0 for the first page), or the
    offset in the `sort` order (0 for the first page). A cursor of another order is refused:
    the next page is asked for with the same `sort` as the first."""
    value = check.data.get("cursor")
    if value in (None, ""):
        return 0
    try:
        if len(value) > MAX_CURSOR:
            raise ValueError(value)
        position = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
        if position.get("sort") != sort:
            raise ValueError(position)
        where = position["after"] if sort is None else position["offset"]
        limit = MAX_ID if sort is None else MAX_OFFSET
        if isinstance(where, bool) or not isinstance(where, int) or not 0 < where <= limit:
            raise ValueError(where)
        return where
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, binascii.Error):
        check.fail("cursor", _l("This cursor is not valid: send the next_cursor of an "
                                "earlier answer unchanged, with the same sort."))
        return 0


def _sort(check, resource):
    """The `sort` asked for: a key of the resource's sorts, `-` before it for descending; None
    for pages by id."""
    value = check.data.get("sort")
    if value in (None, ""):
        return None
    if value.removeprefix("-") not in resource.sorts:
        check.fail("sort", _l("Sort by one of: %(keys)s (with - before it for descending).",
                              keys=", ".join(resource.sorts)))
        return None
    return value


def arguments(allowed):
    """The query arguments, each given at most once and each one that the endpoint knows."""
    errors = {}
    for name in request.args:
        if name not in allowed:
            errors[name] = [_l("This parameter does not exist.")]
        elif len(request.args.getlist(name)) > 1:
            errors[name] = [_l("Give this parameter only once.")]
    if errors:
        raise BadRequest(next(iter(errors.values()))[0], fields=errors)
    return request.args.to_dict()


def read_filters(check, resource):
    """The list filters of `resource` from the query arguments, as keywords of its query."""
    return {keyword: read(check, name) for name, (keyword, read) in resource.filters.items()}


def refuse_bad_arguments(check):
    if check.errors:
        raise BadRequest(next(iter(check.errors.values()))[0], fields=check.errors)


# The request body.


def read_body():
    """The request's JSON object; anything else (no body, malformed JSON, an array) is a 400."""
    message = _l("The body must be a JSON object, such as {\"name\": \"OptoNet e.V.\"}.")
    try:
        data = json.loads(request.get_data())
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than Python reads
        raise BadRequest(message) from None
    if not isinstance(data, dict):
        raise BadRequest(message)
    field = _field_with_lone_surrogate(data)
    if field is not None:
        # JSON may escape half of a character ("\ud800"); no database can store that.
        message = _l("The body contains text that is not valid Unicode.")
        raise BadRequest(message, fields={field: [message]})
    return data


def _field_with_lone_surrogate(data):
    """The top-level field whose name or value (at any depth) holds half a character, or None.
    A field name that is itself broken comes back readable, with "?" in its place."""
    for key, value in data.items():
        pending = [key, value]
        while pending:
            item = pending.pop()
            if isinstance(item, dict):
                pending.extend(item.keys())
                pending.extend(item.values())
            elif isinstance(item, list):
                pending.extend(item)
            elif isinstance(item, str) and not encodable(item):
                return key if encodable(key) else key.encode("utf-8", "replace").decode()
    return None


def refuse_read_only(data, names):
    """Refuse the fields among `names` that `data` sets: a client sees them but cannot set
    them."""
    given = [name for name in names if name in data]
    if given:
        raise ValidationError(
            _l("These fields cannot be set: %(fields)s.", fields=", ".join(given)),
            fields={name: [_l("This field is read-only.")] for name in given})


def check_shape(data, resource):
    """A list or an object only where the contract has one (the services check the rest):
    the API's counterpart of a form, which sends one value per field."""
    errors = {}
    for name, value in data.items():
        if name in resource.object_list_fields:
            bad = isinstance(value, list) and any(
                isinstance(item, dict) and not all(map(_is_single, item.values()))
                for item in value)
        elif name in resource.list_fields:
            bad = isinstance(value, list) and not all(map(_is_single, value))
        else:
            bad = name in resource.fields and not _is_single(value)
        if bad:
            errors[name] = [_l("Give single values here, not lists or objects.")]
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], fields=errors)


def _is_single(value):
    return not isinstance(value, list | dict)


def take_version(data):
    """The version the client last saw, taken out of a PATCH body."""
    if "version" not in data:
        raise ValidationError(
            _l("Send the version of the record you last saw, so that nobody's changes are "
               "overwritten unseen."),
            fields={"version": [_l("This field is required.")]})
    version = data.pop("version")
    if isinstance(version, bool) or not isinstance(version, int):
        message = _l("Give the version as a whole number.")
        raise ValidationError(message, fields={"version": [message]})
    return version


def _write_options(resource, args):
    """The service's keyword arguments from the query string (`allow_duplicate`)."""
    if not resource.finds_duplicates:
        return {}
    check = Checker(args)
    allow_duplicate = check.boolean("allow_duplicate")
    refuse_bad_arguments(check)
    return {"allow_duplicate": allow_duplicate}


# Records as JSON.


def record_fields(record):
    return {
        "id": record.id,
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
        "deleted_at": record.deleted_at.isoformat() if record.deleted_at else None,
        "version": record.version,
    }


def organisation_json(organisation):
    return {**record_fields(organisation), **organisation_services.snapshot(organisation)}


def contact_json(contact):
    return {**record_fields(contact), "display_name": contact.display_name,
            **contact_services.snapshot(contact)}


def event_json(event):
    values = event_services.snapshot(event)
    values.update({k: v.isoformat() for k, v in values.items() if isinstance(v, date)})
    return {**record_fields(event), **values}


# The resources.


@dataclass(frozen=True)
class Resource:
    """One kind of record in the API, with the services and queries behind it."""

    name: str  # the URL segment and the endpoint of the list
    singular: str  # the endpoint of one record
    id_arg: str  # the URL argument of one record
    model: type
    fields: tuple  # what a client may send: the service's FIELDS
    get: Callable  # get(id, include_deleted=...) → record, or NotFoundError
    create: Callable
    update: Callable
    delete: Callable
    to_json: Callable
    list_query: Callable  # the list page's query: list_query(q=..., **filters) → select
    filters: dict  # query argument → (keyword of list_query, reader)
    eager: tuple = ()  # loader options for what the JSON of a list shows
    list_fields: frozenset = field(default_factory=frozenset)
    object_list_fields: frozenset = field(default_factory=frozenset)
    finds_duplicates: bool = False  # whether the services refuse likely duplicates
    read_only: tuple = READ_ONLY  # fields a client sees but cannot set
    # Questions about one record for the acting user, as crm.auth.permissions answers them:
    # a record the user may not see is a 404 (as if it did not exist), one they may see but
    # not change is a 403 for a change.
    can_view: Callable | None = None
    can_edit: Callable | None = None
    restore: Callable | None = None  # restore(record, actor=...): undo a soft delete
    # `sort` keys (the list pages' own) → the columns they order by, before the id.
    sorts: dict = field(default_factory=dict)

    @property
    def endpoint(self):
        return f"api.{self.singular}"


ORGANISATIONS = Resource(
    name="organisations", singular="organisation", id_arg="organisation_id", model=Organisation,
    fields=organisation_services.FIELDS,
    get=organisation_services.get_organisation,
    create=organisation_services.create_organisation,
    update=organisation_services.update_organisation,
    delete=organisation_services.delete_organisation,
    restore=organisation_services.restore_organisation,
    to_json=organisation_json,
    list_query=organisation_queries.organisation_list,
    sorts=organisation_queries.SORTS,
    filters={"kind": ("kind", choice_of(OrganisationKind)),
             "country": ("country", country_arg),
             "sector": ("sector", choice_of(Sector)),
             "tag": ("tag", _tag)},
    eager=(selectinload(Organisation.sector_rows), selectinload(Organisation.tag_rows)),
    list_fields=frozenset({"sectors", "tags"}),
    finds_duplicates=True,
)

CONTACTS = Resource(
    name="contacts", singular="contact", id_arg="contact_id", model=Contact,
    fields=contact_services.FIELDS,
    get=contact_services.get_contact,
    create=contact_services.create_contact,
    update=contact_services.update_contact,
    delete=contact_services.delete_contact,
    restore=contact_services.restore_contact,
    to_json=contact_json,
    list_query=contact_queries.contact_list,
    sorts=contact_queries.SORTS,
    filters={"organisation": ("organisation_id", record_id_arg),
             "tag": ("tag", _tag),
             "owner": ("owner_id", record_id_arg),
             "language": ("language", choice_of(CONTACT_LANGUAGES)),
             "event": ("event_id", record_id_arg)},
    eager=(selectinload(Contact.tag_rows),),  # the list query loads the affiliations
    list_fields=frozenset({"tags"}),
    object_list_fields=frozenset({"affiliations"}),
    finds_duplicates=True,
)

EVENTS = Resource(
    name="events", singular="event", id_arg="event_id", model=Event,
    fields=event_services.FIELDS,
    get=event_services.get_event,
    create=event_services.create_event,
    update=event_services.update_event,
    delete=event_services.delete_event,
    restore=event_services.restore_event,
    to_json=event_json,
    list_query=event_queries.event_list,
    sorts=event_queries.SORTS,
    filters={"kind": ("kind", choice_of(EventKind)),
             "country": ("country", country_arg),
             "trip": ("trip_id", record_id_arg),
             "year": ("year", _year)},
    eager=(selectinload(Event.partners), selectinload(Event.team_members),
           selectinload(Event.attendances)),
    list_fields=frozenset({"partner_ids", "team_member_ids"}),
    object_list_fields=frozenset({"attendees"}),
)


# The steps of the endpoints, each with the permission it needs.


def load(resource, record_id, *, writing=False):
    """The record at `record_id` for the acting user: 404 if it does not exist, is deleted
    (admins may still read it, nobody changes it) or is hidden from the user; 403 if the user
    may see it but not change it (`writing`)."""
    record = record_or_404(resource.get, record_id, writing=writing)
    actor = current_actor()
    if resource.can_view is not None and not resource.can_view(actor, record):
        abort(404)
    if writing and resource.can_edit is not None and not resource.can_edit(actor, record):
        raise Forbidden(_l("You may read this record but not change it."))
    return record


def collection(resource):
    """`/<resource>`: GET lists, POST creates."""
    return create_response(resource) if request.method == "POST" else list_response(resource)


def item(resource, record_id):
    """`/<resource>/<id>`: GET reads, PATCH changes, DELETE deletes."""
    step = {"PATCH": update_response, "DELETE": delete_response}.get(request.method,
                                                                     record_response)
    return step(resource, record_id)


@require(Permission.VIEW_RECORDS)
def list_response(resource):
    """One page of the records matching `q` and the filters, by id or in the `sort` order, in
    one query (plus one per list the JSON shows, whatever the page size)."""
    check = Checker(arguments({"q", "limit", "cursor", "sort", *resource.filters}))
    q = check.text("q", max_length=MAX_TEXT_ARG)
    filters = read_filters(check, resource)
    sort = _sort(check, resource)
    limit, where = _limit(check), _cursor(check, sort)
    refuse_bad_arguments(check)
    model = resource.model
    query = resource.list_query(q=q, **filters).order_by(None)
    if sort is None:
        query = query.order_by(model.id).where(model.id > where)
    else:
        descending = sort.startswith("-")
        query = query.order_by(*ordered(resource.sorts[sort.removeprefix("-")], descending),
                               model.id.desc() if descending else model.id)
        # The page's ids along the order alone, then those rows whole (see DeepPagination).
        ids = query.with_only_columns(model.id).correlate(None).offset(where).limit(limit + 1)
        query = query.where(model.id.in_(ids))
    # One more than asked tells whether another page follows.
    records = db.session.scalars(query.options(*resource.eager).limit(limit + 1)).all()
    next_cursor = None
    if len(records) > limit:
        next_cursor = (encode_cursor(records[limit - 1].id) if sort is None
                       else encode_cursor(sort=sort, offset=where + limit))
    return jsonify({"items": [resource.to_json(r) for r in records[:limit]],
                    "next_cursor": next_cursor})


def committed_json(to_json, record):
    """Commit, and return `to_json(record)` as read back from the database just before."""
    # Once the change is saved, the answer needs nothing more from the database (use the
    # body's id, not the expired record's): every saved write is answered with success, and a
    # commit that fails (the database gone) is a 503 with nothing saved.
    db.session.flush()
    db.session.expire(record)
    body = to_json(record)
    db.session.commit()
    return body


@require(Permission.EDIT_RECORDS)
def create_response(resource):
    options = _write_options(resource, arguments(
        {"allow_duplicate"} if resource.finds_duplicates else set()))
    data = read_body()
    refuse_read_only(data, resource.read_only)
    check_shape(data, resource)
    record = resource.create(data, actor=current_actor(), **options)
    body = committed_json(resource.to_json, record)
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = url_for(resource.endpoint, **{resource.id_arg: body["id"]})
    return response


@require(Permission.VIEW_RECORDS)
def record_response(resource, record_id):
    arguments(set())
    return jsonify(resource.to_json(load(resource, record_id)))


@require(Permission.EDIT_RECORDS)
def update_response(resource, record_id):
    options = _write_options(resource, arguments(
        {"allow_duplicate"} if resource.finds_duplicates else set()))
    record = load(resource, record_id, writing=True)
    data = read_body()
    version = take_version(data)
    refuse_read_only(data, resource.read_only)
    check_shape(data, resource)
    resource.update(record, data, actor=current_actor(), expected_version=version, **options)
    return jsonify(committed_json(resource.to_json, record))


@require(Permission.RESTORE_RECORDS)
def restore_response(resource, record_id):
    """Undo a soft delete (admins): 200 with the record; a record that is not deleted is
    answered the same way, unchanged."""
    arguments(set())
    record = load(resource, record_id)
    resource.restore(record, actor=current_actor())
    return jsonify(committed_json(resource.to_json, record))


@require(Permission.EDIT_RECORDS)
def delete_response(resource, record_id):
    """Soft delete: 204; the record is a 404 from now on (an admin can still read and
    restore it)."""
    arguments(set())
    record = load(resource, record_id, writing=True)
    resource.delete(record, actor=current_actor())
    db.session.commit()
    return Response(status=204)
