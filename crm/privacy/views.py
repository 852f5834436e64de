"""Data protection pages: everything held on a person (Art. 15 DSGVO)."""

import json

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm.audit.models import FIELD_LABELS
from crm.auth.permissions import Permission, record_or_404, require
from crm.contacts import services as contact_services
from crm.core.forms import run_service
from crm.core.models import utcnow
from crm.events.models import AttendanceStatus
from crm.extensions import db
from crm.privacy import queries, services
from crm.privacy.forms import EraseForm

bp = Blueprint("privacy", __name__)


@bp.route("/contacts/<id:contact_id>/data")
@require(Permission.DATA_PROTECTION)
def data_report(contact_id):
    """Everything held on a person, to read, print or hand out (Art. 15 DSGVO)."""
    contact = record_or_404(contact_services.get_contact, contact_id)
    services.note_data_report(contact, actor=current_user, form="page")
    db.session.commit()
    return _data_report_page(contact, EraseForm())


def _data_report_page(contact, erase_form, status=200):
    return render_template(
        "privacy/data_report.html", contact=contact, report=queries.data_report(contact),
        now=utcnow(), erase_form=erase_form, field_labels=FIELD_LABELS,
        attendance_labels={status.value: status.label for status in AttendanceStatus}), status


@bp.route("/contacts/<id:contact_id>/data.json")
@require(Permission.DATA_PROTECTION)
def data_report_json(contact_id):
    """The same as JSON, as a download in a machine-readable form (Art. 15 (3), Art. 20)."""
    contact = record_or_404(contact_services.get_contact, contact_id)
    report = queries.data_report(contact)
    services.note_data_report(contact, actor=current_user, form="json")
    db.session.commit()
    body = json.dumps(report.as_json(), ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="contact-{contact.id}-data.json"'})


@bp.post("/contacts/<id:contact_id>/erase")
@require(Permission.DATA_PROTECTION)
def erase(contact_id):
    """Erase a person's data (Art. 17 DSGVO), once the admin confirms that nothing must be
    kept; the anonymous record stays for the counts."""
    contact = record_or_404(contact_services.get_contact, contact_id)
    form = EraseForm()
    form.validate_on_submit()
    erased, status = run_service(form, lambda: services.erase_contact(
        contact, actor=current_user, confirmed=form.confirm.data))
    if erased is None:
        return _data_report_page(contact, form, status)
    db.session.commit()
    flash(_("The person's data has been erased. The anonymous record stays for the counts."),
          "success")
    return redirect(url_for("contacts.detail", contact_id=contact.id))
