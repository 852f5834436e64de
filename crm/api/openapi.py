"""The OpenAPI 3.1 description of the API. Each resource adds its paths and schemas here."""

from crm.api.activities import ACTIVITIES
from crm.api.leads import LEADS
from crm.api.resources import CONTACTS, EVENTS, ORGANISATIONS
from crm.api.schemas import component_schemas, ref
from crm.auth.models import Language, Role
from crm.core.lists import DEFAULT_PER_PAGE, MAX_PER_PAGE, MAX_TEXT_ARG
from crm.leads.queries import CLOSED_STATUSES

API_VERSION = "1.0.0"
SORTS = {resource.name: resource.sorts
         for resource in (ORGANISATIONS, CONTACTS, EVENTS, LEADS, ACTIVITIES)}


def _error_response(description, schema="Error"):
    return {
        "description": description,
        "content": {"application/json": {"schema": ref(schema)}},
    }


def _response(name):
    return {"$ref": f"#/components/responses/{name}"}


def _parameter(name):
    return {"$ref": f"#/components/parameters/{name}"}


def _json(schema, description, **extra):
    return {"description": description,
            "content": {"application/json": {"schema": schema}}, **extra}


def _filter(name, schema, description):
    """An optional query parameter; given empty (`?sector=`), it counts as not given."""
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description, "allowEmptyValue": True}


def _id_filter(name, description):
    return _filter(name, {"type": "integer", "minimum": 1}, description)


def _flag_filter(name, description):
    return _filter(name, {"type": "boolean", "default": False}, description)


_TAG_FILTER = _filter("tag", {"type": "string", "maxLength": 50}, "Only records with this tag.")
_COUNTRY_FILTER = _filter("country", ref("CountryCode"), "Only records in this country.")
_CLOSED = ", ".join(f"`{status}`" for status in CLOSED_STATUSES)

# The filters of the lead list, which the pipeline report takes too.
LEAD_FILTERS = [
    _flag_filter("mine", "Only leads the token's user owns or is on the team of."),
    _id_filter("owner", "Only leads of this project manager."),
    _filter("sector", ref("Sector"), "Only leads in this sector."),
    _filter("country", ref("CountryCode"), "Only leads from investors of this country."),
    _filter("investment_type", ref("InvestmentType"), "Only leads of this investment type."),
    _id_filter("source_event", "Only leads from this event; for a delegation trip, also from "
                               "the events within it."),
    _id_filter("referral_partner", "Only leads this partner organisation referred."),
    _filter("likelihood", ref("Likelihood"), "Only leads of this likelihood."),
    _filter("stage", ref("Stage"), "Only leads in this stage."),
    _filter("status", ref("Status"), "Only leads of this status; it may be one of the "
                                     "statuses hidden by default."),
    _filter("decision_from", {"type": "string", "format": "date"},
            "Only leads expected to be decided on or after this day."),
    _filter("decision_to", {"type": "string", "format": "date"},
            "Only leads expected to be decided on or before this day."),
    _flag_filter("show_closed", f"Include {_CLOSED} leads, which are hidden unless asked for "
                                "(here or with `status`)."),
]

_DAY = {"type": "string", "format": "date"}
# The filters of the activity list.
ACTIVITY_FILTERS = [
    _id_filter("organisation", "Only activities recorded on this organisation (not those on its "
                               "people or leads)."),
    _id_filter("contact", "Only activities recorded on this person."),
    _id_filter("event", "Only activities recorded on this event (for a trip, not those on the "
                        "events within it)."),
    _id_filter("lead", "Only activities recorded on this lead."),
    _filter("kind", ref("ActivityKind"), "Only activities of this kind."),
    _id_filter("assignee", "Only follow-ups assigned to this team member."),
    _filter("due_from", _DAY, "Only follow-ups due on or after this day."),
    _filter("due_to", _DAY, "Only follow-ups due on or before this day."),
    _filter("done", {"type": "boolean"},
            "true: only follow-ups marked done; false: only open follow-ups; not given: every "
            "activity, notes without a due date included."),
    _flag_filter("follow_ups", "Only follow-ups (activities with a due date)."),
]

# The resources: path segment, one record's name, schema name, URL argument, filters, and
# what the services refuse as a likely duplicate (None: nothing).
RESOURCES = (
    ("organisations", "organisation", "Organisation", "organisation_id", [
        _filter("kind", ref("OrganisationKind"), "Only organisations of this kind."),
        _COUNTRY_FILTER,
        _filter("sector", ref("Sector"), "Only organisations working in this sector."),
        _TAG_FILTER,
    ], ("a name that matches an existing organisation's (ignoring case, umlaut spelling and "
       "legal form)")),
    ("contacts", "contact", "Contact", "contact_id", [
        _id_filter("organisation", "Only people affiliated (now or before) with this "
                                   "organisation."),
        _TAG_FILTER,
        _id_filter("owner", "Only contacts this team member looks after."),
        _filter("language", ref("ContactLanguage"), "Only contacts preferring this language."),
        _id_filter("event", "Only people recorded at this event."),
    ], "an email address that an existing contact has"),
    ("events", "event", "Event", "event_id", [
        _filter("kind", ref("EventKind"), "Only events of this kind."),
        _COUNTRY_FILTER,
        _id_filter("trip", "A delegation trip and the events within it."),
        _filter("year", {"type": "integer", "minimum": 1900, "maximum": 2200},
                "Only events starting in this year."),
    ], None),
)
# Leads have more to say than the others: see _resource_paths' keywords.
LEADS_RESOURCE = ("leads", "lead", "Lead", "lead_id", LEAD_FILTERS, None)
LEAD_NOTES = {
    "list_note": (
        " Only the leads the user may see: a confidential lead only for its owner, its team "
        f"members, managers and admins. {_CLOSED} leads are hidden unless `show_closed=true` "
        "or `status` asks for them."),
    "access_note": (
        " A confidential lead the user may not see is a 404, as if it did not exist; members "
        "change only the leads they own or are on the team of (403 for the others)."),
    "move_note": (
        " A `stage` or `status` given is applied by the rules of `POST /leads/{lead_id}/stage`, "
        "after the other fields, and may be refused with 422 `stage_refused`; then nothing is "
        "saved."),
    "invalid": "InvalidOrStageRefused",
}


def _sort_parameter(segment):
    keys = list(SORTS[segment])
    return _filter(
        "sort", {"type": "string", "enum": [*keys, *(f"-{key}" for key in keys)]},
        "The order of the list: " + ", ".join(f"`{key}`" for key in keys)
        + "; a `-` before the key for descending (`-" + keys[0] + "`). Ties, and the "
        "list without `sort`, go by id. Names sort the German way (Ö with O).")


def _resource_paths(segment, singular, schema, id_arg, filters, duplicates, *, list_note="",
                    access_note="", move_note="", create_note="", invalid="Invalid",
                    search=None):
    """The list, create, read, change and delete operations of one resource. The notes add
    to the descriptions: of the list, of reading and changing one record, of the writes that
    may move it, of creating one (which may then also answer 404); `invalid` names the 422
    response, `search` the `q` parameter (the folded search of names by default)."""
    title = segment.capitalize()
    duplicate_params = [_parameter("AllowDuplicate")] if duplicates else []
    create_responses = {
        "201": _json(ref(schema), f"The new {singular}.", headers={"Location": {
            "description": f"The address of the new {singular}.",
            "schema": {"type": "string", "format": "uri-reference"}}}),
        "400": _response("BadRequest"),
        "401": _response("Unauthorized"),
        "403": _response("Forbidden"),
        "409": _response("Duplicate") if duplicates else _response("Conflict"),
        "413": _response("TooLarge"),
        "422": _response(invalid),
    }
    if create_note:
        create_responses["404"] = _response("NotFound")
    duplicate_note = (f" A {singular} with {duplicates} is refused with 409 `duplicate` and "
                      "the records it resembles, unless `allow_duplicate=true`." if duplicates
                      else "")
    return {
        f"/{segment}": {
            "get": {
                "operationId": f"list{title}",
                "summary": f"{title}, a page at a time",
                "description": (
                    "Paged by id, oldest first, unless `sort` asks for another order: pass "
                    "`next_cursor` as `cursor` (with the same filters and `sort`) for the next "
                    "page. By id, a record added meanwhile never shifts the pages; in a `sort` "
                    "order the cursor holds a position, so a record added, deleted or changed "
                    "meanwhile can shift the later pages by one. An unknown filter value or "
                    "parameter is a 400 naming it." + list_note),
                "tags": [segment],
                "parameters": [search or _parameter("Q"), _parameter("Limit"),
                               _parameter("Cursor"), _sort_parameter(segment), *filters],
                "responses": {
                    "200": _json(ref(f"{schema}List"), f"One page of {segment}."),
                    "400": _response("BadRequest"),
                    "401": _response("Unauthorized"),
                    "403": _response("Forbidden"),
                },
            },
            "post": {
                "operationId": f"create{schema}",
                "summary": f"Create a {singular}",
                "description": "The body is a JSON object with the fields to set; unknown and "
                               "read-only fields are refused with 422." + duplicate_note
                               + move_note + create_note,
                "tags": [segment],
                "parameters": duplicate_params,
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": ref(f"{schema}Input")}}},
                "responses": create_responses,
            },
        },
        f"/{segment}/{{{id_arg}}}": {
            "parameters": [{"name": id_arg, "in": "path", "required": True,
                            "schema": {"type": "integer", "minimum": 1,
                                       "maximum": 2**31 - 1}}],
            "get": {
                "operationId": f"get{schema}",
                "summary": f"One {singular}",
                "description": "Deleted records are 404, except for admins." + access_note,
                "tags": [segment],
                "responses": {
                    "200": _json(ref(schema), f"The {singular}."),
                    "400": _response("BadRequest"),
                    "401": _response("Unauthorized"),
                    "403": _response("Forbidden"),
                    "404": _response("NotFound"),
                },
            },
            "patch": {
                "operationId": f"update{schema}",
                "summary": f"Change a {singular}",
                "description": "Changes the fields given; the others keep their values. "
                               "`version` is required: if the record changed since the client "
                               "saw that version, the answer is 409 `conflict` and nothing is "
                               "saved. A deleted record is a 404." + duplicate_note
                               + access_note + move_note,
                "tags": [segment],
                "parameters": duplicate_params,
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": ref(f"{schema}Update")}}},
                "responses": {
                    "200": _json(ref(schema), f"The changed {singular}."),
                    "400": _response("BadRequest"),
                    "401": _response("Unauthorized"),
                    "403": _response("Forbidden"),
                    "404": _response("NotFound"),
                    "409": (_response("ConflictOrDuplicate") if duplicates
                            else _response("Conflict")),
                    "413": _response("TooLarge"),
                    "422": _response(invalid),
                },
            },
            "delete": {
                "operationId": f"delete{schema}",
                "summary": f"Delete a {singular}",
                "description": "A soft delete: the record is a 404 from then on (for admins "
                               "too, when deleting it again), and an admin can restore it on "
                               f"its page or with `POST /{segment}/{{{id_arg}}}/restore`."
                               + access_note,
                "tags": [segment],
                "responses": {
                    "204": {"description": "Deleted; no body."},
                    "400": _response("BadRequest"),
                    "401": _response("Unauthorized"),
                    "403": _response("Forbidden"),
                    "404": _response("NotFound"),
                },
            },
        },
        f"/{segment}/{{{id_arg}}}/restore": {
            "parameters": [{"name": id_arg, "in": "path", "required": True,
                            "schema": {"type": "integer", "minimum": 1,
                                       "maximum": 2**31 - 1}}],
            "post": {
                "operationId": f"restore{schema}",
                "summary": f"Restore a deleted {singular}",
                "description": "Undoes a delete; admins only (403 for others). A record that "
                               "is not deleted is answered unchanged. No body.",
                "tags": [segment],
                "responses": {
                    "200": _json(ref(schema), f"The restored {singular}."),
                    "400": _response("BadRequest"),
                    "401": _response("Unauthorized"),
                    "403": _response("Forbidden"),
                    "404": _response("NotFound"),
                },
            },
        },
    }


def _lead_paths():
    """The leads resource, a lead's moves and the pipeline report."""
    moves = {
        "post": {
            "operationId": "moveLead",
            "summary": "Move a lead to another stage, or change its status",
            "description": (
                "`{\"stage\": \"prospect\"}` moves the lead when it has every field the "
                "stages up to the new one require; otherwise the answer is 422 "
                "`stage_refused`, with `fields` naming each missing field and `missing` "
                "listing them with their labels. Only a manager who is not the lead's project "
                "manager moves it to `won` (anyone else: 422 `stage_refused`, `missing` "
                "empty); a manager may override the requirements with `override_reason`, "
                "which the stage history and the audit log keep. Moving back is always "
                "allowed; leaving `won` sets the status `ongoing` again. "
                "`{\"status\": \"lost\", \"lost_reason\": ..., \"closed_on\": ..., "
                "\"lost_to\": ...}` changes the status: `lost` and `abandoned` need a reason "
                "and a date, `lost` also where the investment went; a lost or abandoned lead "
                "moves again only after `{\"status\": \"ongoing\"}`. Every change writes a "
                "row of the stage history. An unknown or deleted lead, and a confidential one "
                "the user may not see, is a 404; a lead the user may see but not change is a "
                "403. When the move is refused, nothing is changed."),
            "tags": ["leads"],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": ref("StageMove")}}},
            "responses": {
                "200": _json(ref("Lead"), "The lead after the move."),
                "400": _response("BadRequest"),
                "401": _response("Unauthorized"),
                "403": _response("Forbidden"),
                "404": _response("NotFound"),
                "409": _response("Conflict"),
                "413": _response("TooLarge"),
                "422": _response("InvalidOrStageRefused"),
            },
        },
    }
    report = {
        "get": {
            "operationId": "getPipelineReport",
            "summary": "The pipeline: leads, CAPEX, new jobs and weighted CAPEX per stage",
            "description": (
                "The leads the user may see (a confidential lead only for its owner, its team, "
                "managers and admins), with the filters of the lead list; like the board, "
                f"{_CLOSED} leads count only when `show_closed=true` or `status` asks for "
                "them. Every stage is listed, in order, with zeros where it has no lead; the "
                "totals are the sums of the stages."),
            "tags": ["reports"],
            "parameters": [_parameter("Q"), *LEAD_FILTERS],
            "responses": {
                "200": _json(ref("PipelineReport"), "The figures per stage and in total."),
                "400": _response("BadRequest"),
                "401": _response("Unauthorized"),
                "403": _response("Forbidden"),
            },
        },
    }
    results = {
        "get": {
            "operationId": "getResultsReport",
            "summary": "The results: leads won in a period and the one before",
            "description": (
                "The results section of the reports page: the leads won in the period (this "
                "calendar year unless `from` and `to` say otherwise) and in the period before, "
                "in total and by investment type, origin, country and sector. Members get the "
                "figures of their own leads (owned or on the team), managers and admins "
                "everyone's."),
            "tags": ["reports"],
            "parameters": [
                _filter("from", {"type": "string", "format": "date"},
                        "The first day of the period (default: 1 January of the year of `to`, "
                        "or of this year)."),
                _filter("to", {"type": "string", "format": "date"},
                        "The last day of the period (default: 31 December of the year of `from`, "
                        "or of this year); not "
                        "before `from`."),
                _filter("sector", ref("Sector"), "Only leads in this sector."),
                _filter("country", ref("CountryCode"),
                        "Only leads from investors of this country."),
                _id_filter("owner", "Only leads of this project manager."),
                _id_filter("source_event", "Only leads from this event; for a delegation "
                                           "trip, also from the events within it."),
                _id_filter("referral_partner", "Only leads this partner organisation "
                                               "referred."),
            ],
            "responses": {
                "200": _json(ref("ResultsReport"), "The won leads' figures."),
                "400": _response("BadRequest"),
                "401": _response("Unauthorized"),
                "403": _response("Forbidden"),
            },
        },
    }
    return {**_resource_paths(*LEADS_RESOURCE, **LEAD_NOTES),
            "/leads/{lead_id}/stage": {
                "parameters": [{"name": "lead_id", "in": "path", "required": True,
                                "schema": {"type": "integer", "minimum": 1,
                                           "maximum": 2**31 - 1}}],
                **moves},
            "/reports/pipeline": report,
            "/reports/results": results}


ACTIVITIES_RESOURCE = ("activities", "activity", "Activity", "activity_id", ACTIVITY_FILTERS,
                       None)
ACTIVITY_NOTES = {
    "list_note": (
        " Only the activities the user may see: none on a deleted person or lead, none on a "
        "confidential lead kept from the user."),
    "access_note": (
        " An activity on a deleted person or lead, or on a confidential lead the user may not "
        "see, is a 404, as if it did not exist. Its author, managers and admins change and "
        "delete it (403 for others), but anyone who sees a follow-up may send `done`."),
    "create_note": (
        " An `organisation_id`, `contact_id`, `event_id` or `lead_id` naming a record that "
        "does not exist, is deleted, or is a confidential lead the user may not see is a 404 "
        "`not_found` whose `fields` name it; nothing is saved."),
    "search": {"name": "q", "in": "query", "required": False,
               "allowEmptyValue": True,
               "schema": {"type": "string", "maxLength": MAX_TEXT_ARG},
               "description": "Words, each of which must occur in the activity's text, "
                              "ignoring case (on SQLite, a capital umlaut or accented capital "
                              "in the text is found only as written). Umlaut spellings and "
                              "accents are not folded here: `muller` does not find Müller."},
}


_ALLOWANCE_HEADERS = {
    "RateLimit-Limit": "How many requests the token may make in a window.",
    "RateLimit-Remaining": "How many of them are left in the current window.",
    "RateLimit-Reset": "Seconds until the window starts anew.",
}


_METHODS = ("get", "post", "patch", "put", "delete")


def build_spec():
    """The document; every answer to a request with a valid token tells the token's allowance
    in its headers, and any such request may be one too many (429)."""
    spec = _document()
    allowance = {name: {"$ref": f"#/components/headers/{name}"} for name in _ALLOWANCE_HEADERS}
    spec["components"]["headers"] = {
        name: {"description": description, "schema": {"type": "integer", "minimum": 0}}
        for name, description in _ALLOWANCE_HEADERS.items()}
    for path_item in spec["paths"].values():
        for method, operation in path_item.items():
            if method not in _METHODS or operation.get("security") == []:
                continue
            responses = operation["responses"]
            responses["429"] = _response("RateLimited")
            for status, response in responses.items():
                if status != "401":  # no valid token, nothing counted
                    target = (spec["components"]["responses"][response["$ref"].rsplit("/")[-1]]
                              if "$ref" in response else response)
                    target.setdefault("headers", {}).update(allowance)
    return spec


def _document():
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Lotse CRM API",
            "version": API_VERSION,
            "description": (
                "The JSON API of Lotse, the contact and investor CRM of an investment promotion "
                "agency. Authenticate with `Authorization: Bearer <token>`; a user makes a token "
                "on their account page (or `flask --app wsgi crm create-token EMAIL`), and it "
                "can do what its user can, or only read (a change through a read-only token is "
                "a 403 with the code `read_only_token`). Changes through a token are in the "
                "audit log with the token's name. "
                "Errors always have the shape of the `Error` schema. "
                "Each token may make a number of requests a minute (600 unless the agency "
                "set another limit); every answer to a request with a token says where it "
                "stands in `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` "
                "(seconds), and one over the limit gets a 429 with `Retry-After`."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "paths": {
            "/me": {
                "get": {
                    "operationId": "getMe",
                    "summary": "The user the token belongs to",
                    "tags": ["users"],
                    "responses": {
                        "200": {
                            "description": "The token's user.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/User"}
                                }
                            },
                        },
                        "401": {"$ref": "#/components/responses/Unauthorized"},
                    },
                }
            },
            "/users": {
                "get": {
                    "operationId": "listUsers",
                    "summary": "The active users, by name",
                    "description": "Whom a record can be given to: the ids for `owner_id` and "
                                   "`assignee_id`. No query parameters.",
                    "tags": ["users"],
                    "responses": {
                        "200": {
                            "description": "Every active user.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/UserSummaryList"},
                                    "example": {"items": [
                                        {"id": 3, "name": "Anna Schulz", "role": "member"},
                                        {"id": 1, "name": "Jörg Weiß", "role": "manager"}]},
                                }
                            },
                        },
                        "400": _response("BadRequest"),
                        "401": {"$ref": "#/components/responses/Unauthorized"},
                        "403": _response("Forbidden"),
                    },
                }
            },
            **{path: item for resource in RESOURCES
               for path, item in _resource_paths(*resource).items()},
            **_lead_paths(),
            **_resource_paths(*ACTIVITIES_RESOURCE, **ACTIVITY_NOTES),
            "/openapi.json": {
                "get": {
                    "operationId": "getOpenApi",
                    "summary": "This document",
                    "tags": ["meta"],
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document.",
                            "content": {"application/json": {
                                "schema": {"type": "object"},
                                "example": {"openapi": "3.1.0",
                                            "info": {"title": "Lotse CRM API",
                                                     "version": API_VERSION},
                                            "paths": {"/me": {"get": {"...": "..."}}}}}},
                        }
                    },
                }
            },
            "/docs": {
                "get": {
                    "operationId": "getReference",
                    "summary": "This document as a page for people",
                    "description": "Every endpoint, its parameters, bodies, answers and the "
                                   "schemas, as HTML generated from this document.",
                    "tags": ["meta"],
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "The API reference page.",
                            "content": {"text/html": {
                                "schema": {"type": "string"},
                                "example": "<!doctype html><html lang=\"de\">…</html>"}},
                        }
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "lotse_…"}
            },
            "parameters": {
                "Q": {"name": "q", "in": "query", "required": False,
                      "allowEmptyValue": True,
                      "schema": {"type": "string", "maxLength": MAX_TEXT_ARG},
                      "description": "Search words, each of which must occur in the record's "
                                     "name (or city, tags, email). Case, accents and umlaut "
                                     "spellings are folded: `muller` finds Müller."},
                "Limit": {"name": "limit", "in": "query", "required": False,
                          "allowEmptyValue": True,
                          "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE,
                                     "default": DEFAULT_PER_PAGE},
                          "description": "How many records a page holds."},
                "Cursor": {"name": "cursor", "in": "query", "required": False,
                           "allowEmptyValue": True,
                           "schema": {"type": "string", "maxLength": 200},
                           "description": "The `next_cursor` of the previous page, unchanged."},
                "AllowDuplicate": {"name": "allow_duplicate", "in": "query", "required": False,
                                   "allowEmptyValue": True,
                                   "schema": {"type": "boolean", "default": False},
                                   "description": "Save even though the record looks like an "
                                                  "existing one (after a 409 `duplicate`)."},
            },
            "responses": {
                "BadRequest": _error_response(
                    "The body is not a JSON object, or a query parameter is unknown or wrong "
                    "(`fields` names it)."),
                "Unauthorized": _error_response("No token, or a token that is unknown or revoked."),
                "Forbidden": _error_response(
                    "The token's user may not do this, or the token may only read (code "
                    "`read_only_token`)."),
                "NotFound": _error_response("No such record, or one the user may not see."),
                "Conflict": _error_response(
                    "The record changed since the given `version` (code `conflict`), or "
                    "another change got there first."),
                "Duplicate": _error_response(
                    "The record looks like an existing one (code `duplicate`): `duplicates` "
                    "lists them. Send again with `allow_duplicate=true` to save it anyway.",
                    "DuplicateError"),
                "ConflictOrDuplicate": _error_response(
                    "The record changed since the given `version` (code `conflict`), or the "
                    "change makes it look like an existing record (code `duplicate`, with "
                    "`duplicates`; send again with `allow_duplicate=true` to save it anyway)."),
                "TooLarge": _error_response("The body is larger than the server accepts."),
                "Invalid": _error_response(
                    "The data breaks a rule, or names fields that do not exist or cannot be "
                    "set; `fields` says which."),
                "InvalidOrStageRefused": _error_response(
                    "The data breaks a rule, or names fields that do not exist or cannot be "
                    "set (code `invalid`); or the stage rules refuse the move (code "
                    "`stage_refused`, see `StageRefusedError`): `fields` says which."),
                "RateLimited": {
                    **_error_response(
                        "The token has made too many requests in the current window (code "
                        "`rate_limited`); nothing was done. Send again after `Retry-After` "
                        "seconds."),
                    "headers": {
                        "Retry-After": {"description": "Seconds to wait.",
                                        "schema": {"type": "integer", "minimum": 0}},
                    },
                },
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message", "fields"],
                            "properties": {
                                "code": {"type": "string", "examples": ["invalid"]},
                                "message": {"type": "string"},
                                "fields": {
                                    "type": "object",
                                    "additionalProperties": {
                                        "type": "array", "items": {"type": "string"}
                                    },
                                },
                                "duplicates": {
                                    "type": "array",
                                    "description": "Only with code `duplicate`: the existing "
                                                   "records the data resembles.",
                                    "items": {
                                        "type": "object",
                                        "required": ["id", "name"],
                                        "properties": {"id": {"type": "integer"},
                                                       "name": {"type": "string"}},
                                    },
                                },
                                "missing": {
                                    "type": "array",
                                    "description": "Only with code `stage_refused`: what the "
                                                   "lead still needs for the stage, each "
                                                   "field with its label in the user's "
                                                   "language (empty when the refusal is about "
                                                   "something else, such as who confirms a "
                                                   "win).",
                                    "items": {
                                        "type": "object",
                                        "required": ["field", "label"],
                                        "properties": {"field": {"type": "string"},
                                                       "label": {"type": "string"}},
                                        "additionalProperties": False,
                                    },
                                },
                            },
                        }
                    },
                    "examples": [{"error": {
                        "code": "invalid", "message": "Enter a valid email address.",
                        "fields": {"email": ["Enter a valid email address."]}}}],
                },
                "DuplicateError": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "allOf": [{"$ref": "#/components/schemas/Error/properties/error"}],
                            "required": ["duplicates"],
                            "properties": {"code": {"const": "duplicate"}},
                        }
                    },
                    "examples": [{"error": {
                        "code": "duplicate",
                        "message": "An organisation with this name exists already.",
                        "fields": {"name": ["An organisation with this name exists already."]},
                        "duplicates": [{"id": 12, "name": "OptoNet e.V."}]}}],
                },
                "StageRefusedError": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "allOf": [{"$ref": "#/components/schemas/Error/properties/error"}],
                            "required": ["missing"],
                            "properties": {"code": {"const": "stage_refused"}},
                        }
                    },
                    "examples": [{"error": {
                        "code": "stage_refused",
                        "message": "For the stage “Prospect” this lead still needs: Sector, "
                                   "Investment type.",
                        "fields": {"sector": ["Needed for the stage “Prospect”."],
                                   "investment_type": ["Needed for the stage “Prospect”."]},
                        "missing": [{"field": "sector", "label": "Sector"},
                                    {"field": "investment_type",
                                     "label": "Investment type"}]}}],
                },
                **component_schemas(),
                "UserSummary": {
                    "type": "object",
                    "required": ["id", "name", "role"],
                    "additionalProperties": False,
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "role": {"type": "string", "enum": [r.value for r in Role]},
                    },
                },
                "UserSummaryList": {
                    "type": "object",
                    "required": ["items"],
                    "additionalProperties": False,
                    "properties": {
                        "items": {"type": "array",
                                  "items": {"$ref": "#/components/schemas/UserSummary"}},
                    },
                },
                "User": {
                    "type": "object",
                    "required": ["id", "email", "name", "role", "language", "is_active",
                                 "created_at", "updated_at", "version"],
                    "examples": [{"id": 3, "email": "anna.schulz@lotse.example",
                                  "name": "Anna Schulz", "role": "member", "language": "de",
                                  "is_active": True, "created_at": "2026-01-12T08:30:00+00:00",
                                  "updated_at": "2026-03-02T10:15:00+00:00", "version": 2}],
                    "properties": {
                        "id": {"type": "integer"},
                        "email": {"type": "string", "format": "email"},
                        "name": {"type": "string"},
                        "role": {"type": "string", "enum": [r.value for r in Role]},
                        "language": {"type": "string", "enum": [lang.value for lang in Language]},
                        "is_active": {"type": "boolean"},
                        "created_at": {"type": "string", "format": "date-time"},
                        "updated_at": {"type": "string", "format": "date-time"},
                        "version": {"type": "integer"},
                    },
                },
            },
        },
    }
