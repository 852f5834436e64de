"""Search across organisations, contacts and events, insensitive to case, umlauts and accents.

For now each area's folded search column is searched; the full search (ranking, notes, leads,
results as you type) comes with the search area's own index.
"""

from flask import Blueprint, render_template

from crm.auth.permissions import Permission, require
from crm.contacts import queries as contact_queries
from crm.core.lists import text_arg
from crm.events import queries as event_queries
from crm.extensions import db
from crm.organisations import queries as organisation_queries

bp = Blueprint("search", __name__)
LIMIT = 20


@bp.route("/search")
@require(Permission.VIEW_RECORDS)
def index():
    q = text_arg("q")
    results = {}
    if q:
        results = {
            "organisations": db.session.scalars(organisation_queries.typeahead(q, LIMIT)).all(),
            "contacts": db.session.scalars(contact_queries.typeahead(q, LIMIT)).all(),
            "events": db.session.scalars(event_queries.typeahead(q, limit=LIMIT)).all(),
        }
    return render_template("search/index.html", q=q, results=results, limit=LIMIT)
