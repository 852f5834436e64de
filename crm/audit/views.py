"""The audit log page for managers and admins."""

import sqlalchemy as sa
from flask import Blueprint, render_template

from crm.audit import queries
from crm.auth.models import User
from crm.auth.permissions import Permission, require
from crm.core.lists import int_arg, page_args, paginate, text_arg
from crm.extensions import db

bp = Blueprint("audit", __name__)


@bp.route("/admin/audit")
@require(Permission.VIEW_AUDIT)
def index():
    page, per_page = page_args()
    filters = {"action": text_arg("action", 64), "actor_id": int_arg("actor"),
               "record_type": text_arg("record_type", 40), "record_id": int_arg("record_id")}
    actors = db.session.execute(sa.select(User.id, User.name).order_by(User.name_sort)).all()
    return render_template("audit/index.html", pagination=paginate(queries.entries(**filters),
                                                                   page, per_page),
                           actors=actors, **filters)
