"""Downloads of personal data, each noted in the audit log (with the filters of a list)."""

from flask import request
from flask_login import current_user

from crm.audit.services import note_export, record
from crm.core import exports
from crm.extensions import db


def audited_list_download(table, form):
    """A list page's rows (`table`) as a CSV or XLSX download (`form`), in the audit log.
    The download is noted first, so that rows read lazily from the database (see
    `exports.read_in_parts`) are read after that commit, and none of them is expired by it;
    a download that fails halfway is therefore in the log too (it was asked for)."""
    _note(table.title, form)
    return exports.list_response(table, form)


def audited(what, form, response):
    """`response`, a download of `what` in `form` made from a list, after noting it in the
    audit log with the filters of the request."""
    _note(what, form)
    return response


def _note(what, form):
    note_export(what, actor=current_user, form=form,
                filters=request.query_string.decode()[:1000] or None)
    db.session.commit()


def audited_record_download(target, form, response):
    """`response`, a download of one record, after noting it in the audit log on the record
    (so that an erasure of a person also clears the entry's label)."""
    record("export", actor=current_user, record=target, changes={"form": [None, form]})
    db.session.commit()
    return response
