"""The health check, for load balancers and monitoring."""

import sqlalchemy as sa
from flask import Blueprint, jsonify
from sqlalchemy.exc import DBAPIError

from crm.core.access import public
from crm.extensions import db

bp = Blueprint("core", __name__)


@bp.route("/healthz")
@public
def healthz():
    """200 when the database answers, 503 when it does not."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except DBAPIError:
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
