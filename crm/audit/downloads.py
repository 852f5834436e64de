"""Downloads of the lists, each noted in the audit log with the filters it was made with."""

from flask import request
from flask_login import current_user

from crm.audit.services import note_export
from crm.core import exports
from crm.extensions import db


def audited_list_download(table, form):
    """A list page's rows (`table`) as a CSV or XLSX download (`form`), in the audit log."""
    note_export(table.title, actor=current_user, form=form,
                filters=request.query_string.decode()[:1000] or None)
    db.session.commit()
    return exports.list_response(table, form)
