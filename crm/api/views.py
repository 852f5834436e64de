"""The JSON API under /api/v1, authenticated with bearer tokens."""

from flask import Blueprint, current_app, g, jsonify, render_template, request
from flask_babel import gettext as _

from crm.api import reference as api_reference
from crm.api import throttle
from crm.api.activities import ACTIVITIES
from crm.api.activities import update_response as activity_update_response
from crm.api.leads import LEADS, pipeline_response, stage_response
from crm.api.openapi import build_spec
from crm.api.reports import results_response
from crm.api.resources import (
    CONTACTS,
    EVENTS,
    ORGANISATIONS,
    arguments,
    collection,
    item,
    refuse_bad_arguments,
    restore_response,
)
from crm.audit.services import acting_through
from crm.auth import queries as auth_queries
from crm.auth import services as auth_services
from crm.auth.permissions import Permission, require
from crm.core.access import is_public, public
from crm.core.errors import error_response
from crm.core.services import DuplicateError, ServiceError
from crm.core.validation import Checker
from crm.extensions import db
from crm.leads.services import StageRefused

bp = Blueprint("api", __name__, url_prefix="/api/v1")
READING_METHODS = ("GET", "HEAD", "OPTIONS")


@bp.before_request
def authenticate():
    """Every endpoint but the OpenAPI document needs `Authorization: Bearer <token>`.

    Session cookies are not accepted here: a browser sends them by itself, a token it does not,
    so the API needs no CSRF protection.
    """
    if is_public(current_app.view_functions.get(request.endpoint)):
        return None
    scheme, _sep, credentials = request.headers.get("Authorization", "").partition(" ")
    bearer = scheme.lower() == "bearer" and credentials.strip()
    token = auth_services.authenticate_token(credentials.strip()) if bearer else None
    if token is None:
        # RFC 6750: name the error only when a bearer token was sent and refused.
        challenge = 'Bearer realm="lotse"'
        if bearer:
            challenge += ', error="invalid_token"'
        return error_response(
            401, _("A valid API token is required: send it as 'Authorization: Bearer <token>'."),
            headers={"WWW-Authenticate": challenge},
        )
    g.api_token = token
    g.api_user = token.user
    g.api_allowance = allowance = throttle.spend(token)
    if allowance is not None and not allowance.allowed:
        return error_response(
            429, _("This token has made too many requests: please wait %(seconds)s seconds "
                   "before the next.", seconds=allowance.reset_after),
            headers=allowance.headers())
    if token.is_read_only and request.method not in READING_METHODS:
        return error_response(
            403, _("This token may only read: use a token that is not read-only to change data."),
            code="read_only_token")
    acting_through(str(token))
    return None


@bp.after_request
def tell_allowance(response):
    """Every answer through a token says how many requests the token has left."""
    allowance = g.get("api_allowance")
    if allowance is not None:
        response.headers.update(allowance.headers())
    return response


@bp.teardown_request
def forget_token(_error):
    """The token's name marks the audit entries of its own request only."""
    acting_through(None)


@bp.errorhandler(ServiceError)
def service_error(error):
    """A refusal of the services (or of the API's own checks) in the API's error format.

    A possible duplicate also names the records it resembles, so that the client can offer
    them or confirm with `?allow_duplicate=true`; a refused stage move lists what the lead
    still needs (`missing`, empty when the refusal is about something else, such as who may
    confirm a win).
    """
    extra = None
    if isinstance(error, DuplicateError):
        extra = {"duplicates": [{"id": record.id, "name": str(record)}
                                for record in error.duplicates]}
    elif isinstance(error, StageRefused):
        extra = {"missing": [{"field": requirement.field, "label": str(requirement.label)}
                             for requirement in error.missing]}
    db.session.rollback()
    return error_response(error.status, error.message, code=error.code, fields=error.fields,
                          extra=extra)


def user_json(user):
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "language": user.language,
        "is_active": user.is_active,
        "created_at": user.created_at.isoformat(),
        "updated_at": user.updated_at.isoformat(),
        "version": user.version,
    }


@bp.get("/me")
def me():
    """The user the token belongs to."""
    return jsonify(user_json(g.api_user))


@bp.get("/users")
@require(Permission.VIEW_RECORDS)
def users():
    """The active users, by name: whom a record can be given to (`owner_id`, `assignee_id`)."""
    refuse_bad_arguments(Checker(arguments(set())))
    rows = db.session.execute(auth_queries.active_users()).all()
    return jsonify({"items": [{"id": row.id, "name": row.name, "role": row.role}
                              for row in rows]})


@bp.get("/openapi.json")
@public
def openapi():
    return jsonify(build_spec())


@bp.get("/docs")
@public
def reference():
    """The API reference for people: the OpenAPI document as a page, served from here."""
    spec = build_spec()
    return render_template("api/reference.html", spec=spec, code=api_reference.code_spans,
                           groups=api_reference.operations(spec),
                           schema_list=api_reference.schemas(spec),
                           schema_names=set(spec["components"]["schemas"]))


# Organisations, contacts, events, leads and activities. One rule per address, its methods
# dispatched in crm.api.resources (each step checks its permission): with one rule per method,
# Werkzeug answers an id the converter refuses (0, 2147483648) with 405 instead of 404.


@bp.route("/organisations", methods=["GET", "POST"])
def organisations():
    return collection(ORGANISATIONS)


@bp.route("/organisations/<id:organisation_id>", methods=["GET", "PATCH", "DELETE"])
def organisation(organisation_id):
    return item(ORGANISATIONS, organisation_id)


@bp.route("/contacts", methods=["GET", "POST"])
def contacts():
    return collection(CONTACTS)


@bp.route("/contacts/<id:contact_id>", methods=["GET", "PATCH", "DELETE"])
def contact(contact_id):
    return item(CONTACTS, contact_id)


@bp.route("/events", methods=["GET", "POST"])
def events():
    return collection(EVENTS)


@bp.route("/events/<id:event_id>", methods=["GET", "PATCH", "DELETE"])
def event(event_id):
    return item(EVENTS, event_id)


@bp.route("/leads", methods=["GET", "POST"])
def leads():
    return collection(LEADS)


@bp.route("/leads/<id:lead_id>", methods=["GET", "PATCH", "DELETE"])
def lead(lead_id):
    return item(LEADS, lead_id)


@bp.post("/leads/<id:lead_id>/stage")
def lead_stage(lead_id):
    """Move a lead to another stage, or change its status."""
    return stage_response(lead_id)


@bp.route("/activities", methods=["GET", "POST"])
def activities():
    return collection(ACTIVITIES)


@bp.route("/activities/<id:activity_id>", methods=["GET", "PATCH", "DELETE"])
def activity(activity_id):
    """A PATCH may be allowed or not by what it changes: see crm.api.activities."""
    if request.method == "PATCH":
        return activity_update_response(activity_id)
    return item(ACTIVITIES, activity_id)


# Undoing a soft delete (admins), one rule per resource as above.


@bp.post("/organisations/<id:organisation_id>/restore")
def organisation_restore(organisation_id):
    return restore_response(ORGANISATIONS, organisation_id)


@bp.post("/contacts/<id:contact_id>/restore")
def contact_restore(contact_id):
    return restore_response(CONTACTS, contact_id)


@bp.post("/events/<id:event_id>/restore")
def event_restore(event_id):
    return restore_response(EVENTS, event_id)


@bp.post("/leads/<id:lead_id>/restore")
def lead_restore(lead_id):
    return restore_response(LEADS, lead_id)


@bp.post("/activities/<id:activity_id>/restore")
def activity_restore(activity_id):
    return restore_response(ACTIVITIES, activity_id)


@bp.get("/reports/pipeline")
def pipeline_report():
    """The pipeline per stage: count, CAPEX, new jobs, weighted CAPEX."""
    return pipeline_response()


@bp.get("/reports/results")
def results_report():
    """The leads won in a period and the one before, in total and split four ways."""
    return results_response()
