"""The global search: a page of grouped results, and the suggestions under the search box.

Both answer as the user types (htmx): the page swaps its results, the box in the navigation
shows the first few of each group.
"""

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from crm.auth.permissions import Permission, require
from crm.core.lists import text_arg
from crm.search import queries

bp = Blueprint("search", __name__)
LIMIT = 20
SUGGESTIONS = 5
GROUP_LABELS = {"contacts": _l("Contacts"), "organisations": _l("Organisations"),
                "leads": _l("Leads"), "events": _l("Events"), "notes": _l("Notes")}
# Where the rest of a group is found: the list, searched with the same words.
LIST_ENDPOINTS = {"contacts": "contacts.index", "organisations": "organisations.index",
                  "leads": "leads.index", "events": "events.index"}


def _render(template, **context):
    return render_template(template, group_labels=GROUP_LABELS, list_endpoints=LIST_ENDPOINTS,
                           excerpt=queries.excerpt, **context)


@bp.route("/search")
@require(Permission.VIEW_RECORDS)
def index():
    q = text_arg("q")
    results = queries.search(current_user, q, LIMIT) if q else {}
    # htmx asks for the results alone as the user types; going back in history, for the page.
    partial = (request.headers.get("HX-Request")
               and not request.headers.get("HX-History-Restore-Request"))
    template = "search/_results.html" if partial else "search/index.html"
    return (_render(template, q=q, results=results, limit=LIMIT),
            {"Vary": "HX-Request, HX-History-Restore-Request"})


@bp.route("/search/suggest")
@require(Permission.VIEW_RECORDS)
def suggest():
    q = text_arg("q")
    results = queries.search(current_user, q, SUGGESTIONS) if q else {}
    return _render("search/_suggestions.html", q=q, results=results)
