"""The audit log page for managers and admins."""

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _

from crm.audit import queries
from crm.audit.models import RECORD_TYPE_LABELS
from crm.auth.models import User
from crm.auth.permissions import Permission, require
from crm.core.lists import int_arg, page_args, paginate, text_arg
from crm.extensions import db

bp = Blueprint("audit", __name__)


@bp.app_template_global()
def changes_since(conflict):
    """What others saved on a record since an edit form was opened (see `run_service`):
    the audit entries about it after `conflict["since"]`, oldest first, at most 20."""
    try:
        since = datetime.fromisoformat(conflict["since"])
    except (TypeError, ValueError):
        return []
    if since.tzinfo is None:
        return []
    return db.session.scalars(
        queries.entries(record_type=conflict["record_type"], record_id=conflict["record_id"],
                        since=since).limit(20)).all()[::-1]


# The days an audit period may start and end on (as in the reports).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2200, 12, 31)


@bp.route("/admin/audit")
@require(Permission.VIEW_AUDIT)
def index():
    page, per_page = page_args()
    filters = {"action": text_arg("action", 64), "actor_id": int_arg("actor"),
               "record_type": text_arg("record_type", 40), "record_id": int_arg("record_id")}
    errors = {}
    days = {name: _day_arg(name, errors) for name in ("from", "to")}
    if days["from"] and days["to"] and days["to"] < days["from"]:
        errors["to"] = _("The period ends before it starts.")
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    since = datetime.combine(days["from"], time(0), tzinfo=zone) if days["from"] else None
    before = (datetime.combine(days["to"] + timedelta(days=1), time(0), tzinfo=zone)
              if days["to"] else None)
    actors = db.session.execute(sa.select(User.id, User.name).order_by(User.name_sort)).all()
    pagination = None if errors else paginate(
        queries.entries(**filters, since=since, before=before), page, per_page)
    return render_template(
        "audit/index.html", pagination=pagination, actors=actors, errors=errors,
        given={name: request.args.get(name, "") for name in ("from", "to")},
        record_types=sorted(RECORD_TYPE_LABELS.items(), key=lambda item: str(item[1])),
        **filters), 400 if errors else 200


def _day_arg(name, errors):
    """A day from the query string (2026-03-05, as a date field sends it, or 05.03.2026), else
    None; a day that cannot be read, or lies outside 1900 to 2200, is named in `errors`."""
    text = request.args.get(name, "").strip()
    if not text:
        return None
    german = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", text)
    try:
        if german:
            day = date(int(german[3]), int(german[2]), int(german[1]))
        else:
            day = date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
    except ValueError:
        day = None
    if day is None or not FIRST_DAY <= day <= LAST_DAY:
        errors[name] = _("Enter a date between 1900 and 2200, such as 21.11.2026.")
        return None
    return day
