"""Friendly error pages in the user's language, and the API's JSON errors for the same cases.

The API's error format is `{"error": {"code": ..., "message": ..., "fields": {...}}}`.
"""

import logging
import sqlite3

from flask import current_app, g, jsonify, render_template, request
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError

from crm.extensions import db

log = logging.getLogger(__name__)

# The API's codes for the HTTP statuses it answers with.
STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please check your input "
                                "and try again.")),
    401: (_l("Login required"), _l("Please log in to open this page.")),
    403: (_l("Access denied"), _l("You do not have permission to open this page. If you need "
                                  "it, ask a manager or an administrator.")),
    404: (_l("Page not found"), _l("There is no page at this address. It may have been moved or "
                                   "deleted, or the link may be mistyped.")),
    405: (_l("Not allowed"), _l("This page cannot be used in this way.")),
    409: (_l("Conflict"), _l("Someone else changed this record in the meantime. Reload it to "
                             "see their changes.")),
    413: (_l("Too large"), None),  # the message names the limit: see handle_http_error
    429: (_l("Too many attempts"), _l("Please wait a moment before you try again.")),
    500: (_l("Something went wrong"), _l("An unexpected error occurred. It has been logged; "
                                         "please try again in a moment.")),
    503: (_l("Temporarily unavailable"), _l("The database cannot be reached right now. Please "
                                            "try again in a moment.")),
}
DISK_FULL_MESSAGE = _l("The server's storage is full, so nothing was saved. Please tell the "
                       "administrator; reading goes on as before.")
OTHER_CLIENT_ERROR = (_l("Request not possible"), _l("This request cannot be answered. Please "
                                                     "check the address and try again."))
CSRF_MESSAGE = (_l("Form expired"), _l("The form was open too long, or you logged in again in "
                                       "the meantime. Reload the page and send the form again."))


def register_error_handlers(app):
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(SecurityError, handle_unknown_host)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(StaleDataError, handle_conflict)
    app.register_error_handler(IntegrityError, handle_conflict)
    app.register_error_handler(DataError, handle_bad_data)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(InternalServerError, handle_server_error)


def error_response(status, message, *, code=None, fields=None, headers=None, extra=None):
    """The API's JSON answer for an error; `extra` adds keys beside code, message and fields."""
    body = {
        "error": {
            "code": code or STATUS_CODES.get(status, "error"),
            "message": str(message),
            "fields": {name: [str(m) for m in msgs] for name, msgs in (fields or {}).items()},
            **(extra or {}),
        }
    }
    response = jsonify(body)
    response.status_code = status
    response.headers.extend(headers or {})
    return response


def wants_json():
    """The API, and the pages' own scripts (which ask for JSON), get errors as JSON."""
    return (request.path.startswith("/api/")
            or request.accept_mimetypes.best == "application/json")


def render_error(status, title, message, headers=None):
    if wants_json():
        return error_response(status, message, headers=headers)
    body = render_template("errors/error.html", status=status, title=title, message=message,
                           minimal=g.get("database_failed", False))
    return body, status, headers or {}


def handle_http_error(error):
    if error.code is None or error.code < 400:
        return error  # redirects and the like are not errors
    title, message = MESSAGES.get(error.code, OTHER_CLIENT_ERROR if error.code < 500
                                  else MESSAGES[500])
    if error.code == 413:
        megabytes = round(current_app.config["MAX_CONTENT_LENGTH"] / (1024 * 1024))
        message = _("What you sent is larger than the limit of %(limit)s MB. Please send a "
                    "smaller file.", limit=format_decimal(megabytes))
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    return render_error(error.code, title, message, headers)


def handle_unknown_host(error):
    """A Host (or forwarded host) that `TRUSTED_HOSTS` does not name: refused with a bare page
    that builds no address from it (no links, no stylesheet)."""
    log.warning("refused %s %s for a host not in TRUSTED_HOSTS", request.method, request.path)
    message = _("Lotse does not answer to this address.")
    if wants_json():
        return error_response(400, message, code="unknown_host")
    return render_template("errors/unknown_host.html", message=message), 400


def refuse_unreadable(field):
    """400 for a field whose text is not UTF-8 or holds a NUL character."""
    message = _("Some text sent could not be read (it is not UTF-8 or holds a NUL character).")
    if wants_json():
        return error_response(400, message, fields={field: [message]})
    return render_error(400, MESSAGES[400][0], message)


def handle_csrf_error(error):
    return render_error(400, *CSRF_MESSAGE)


def handle_conflict(error):
    """Another transaction changed the row first, or a unique value was taken meanwhile."""
    db.session.rollback()
    return render_error(409, *MESSAGES[409])


def handle_bad_data(error):
    """The database refused a value (out of range, wrong type): the input was bad."""
    log.warning("database refused a value on %s %s: %s", request.method, request.path, error)
    db.session.rollback()
    return render_error(400, *MESSAGES[400])


def handle_database_error(error):
    """The database is down or unreachable: 503 for the client, the details in the log."""
    log.error("database error on %s %s: %s", request.method, request.path, error)
    abandon_failed_database()
    title, message = MESSAGES[503]
    return render_error(503, title, DISK_FULL_MESSAGE if disk_full(error) else message)


def disk_full(error):
    """Whether the database refused a write for a full disk (SQLite, PostgreSQL)."""
    original = getattr(error, "orig", None)
    code = getattr(original, "sqlite_errorcode", None)
    return ((code is not None and code & 0xFF == sqlite3.SQLITE_FULL)
            or getattr(original, "sqlstate", None) == "53100")


def handle_server_error(error):
    original = getattr(error, "original_exception", None)
    if isinstance(original, DBAPIError):
        return handle_database_error(original)
    abandon_failed_database()  # the page must not depend on the database that may have failed
    return render_error(500, *MESSAGES[500])


def abandon_failed_database():
    """Roll back, and make sure that nothing more in this request asks the database."""
    g.database_failed = True
    # An error page would load a user that could not be loaded once more, fail again, and
    # turn a 503 into a 500: it gets an anonymous one (Flask-Login keeps the request's user
    # in `g._login_user`; pinned in requirements.txt).
    if "_login_user" not in g:
        g._login_user = current_app.login_manager.anonymous_user()
    get_locale()  # the user's language, read while their data is still loaded (and kept)
    try:
        db.session.rollback()
    except DBAPIError:
        db.session().invalidate()  # the connection itself is gone: drop it without asking it
