"""Data protection pages: everything held on a person (Art. 15 DSGVO), erasure (Art. 17), the
retention review of people gone quiet, and the register of data-subject requests."""

import json

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import to_user_timezone
from flask_login import current_user

from crm.audit.models import FIELD_LABELS
from crm.auth.permissions import Permission, record_or_404, require
from crm.contacts import services as contact_services
from crm.core.formatting import format_day
from crm.core.forms import run_service
from crm.core.lists import page_args, paginate
from crm.core.models import utcnow
from crm.core.services import ServiceError
from crm.events.models import AttendanceStatus
from crm.extensions import db
from crm.privacy import queries, services
from crm.privacy.forms import EraseForm, RequestForm
from crm.privacy.models import DataRequest

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
        attendance_labels={kind.value: kind.label for kind in AttendanceStatus}), status


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


@bp.route("/privacy/retention")
@require(Permission.DATA_PROTECTION)
def retention():
    """The people without any activity, event or open lead for `RETENTION_YEARS` years, for an
    admin to keep or erase."""
    years = services.retention_years()
    cutoff = services.retention_cutoff(to_user_timezone(utcnow()).date(), years)
    page, per_page = page_args()
    pagination = paginate(queries.retention_due(cutoff), page, per_page)
    return render_template(
        "privacy/retention.html", pagination=pagination, years=years, cutoff=cutoff.date(),
        last_activity=queries.last_activities([c.id for c in pagination.items]))


@bp.post("/contacts/<id:contact_id>/keep")
@require(Permission.DATA_PROTECTION)
def keep(contact_id):
    """Keep a quiet person's data after review; they come up again after another period."""
    contact = record_or_404(contact_services.get_contact, contact_id, writing=True)
    try:
        services.keep_contact(contact, actor=current_user,
                              today=to_user_timezone(utcnow()).date())
    except ServiceError as error:
        db.session.rollback()
        flash(str(error.message), "danger")
        return redirect(url_for("privacy.retention")), 303
    db.session.commit()
    flash(_("“%(name)s” is kept and comes up again in %(years)s years.",
            name=contact.display_name, years=services.retention_years()), "success")
    return redirect(url_for("privacy.retention"))


@bp.route("/privacy/requests", methods=["GET", "POST"])
@require(Permission.DATA_PROTECTION)
def requests():
    """The register of data-subject requests: open ones by deadline, then those answered;
    a new one is entered at the top."""
    today = to_user_timezone(utcnow()).date()
    form = RequestForm()
    status = 200
    if form.is_submitted():
        form.validate_on_submit()
        saved, status = run_service(form, lambda: services.create_request(
            form.service_data(), actor=current_user, today=today))
        if saved is not None:
            db.session.commit()
            flash(_("The request has been registered; it is due on %(day)s.",
                    day=format_day(saved.due_on)), "success")
            return redirect(url_for("privacy.requests"))
    elif not form.received_on.data:
        form.received_on.data = today.isoformat()
    page, per_page = page_args()
    return render_template(
        "privacy/requests.html", form=form, today=today,
        pagination=paginate(queries.data_requests(), page, per_page)), status


@bp.post("/privacy/requests/<id:request_id>/done")
@require(Permission.DATA_PROTECTION)
def request_done(request_id):
    """Mark a request as answered today."""
    data_request = db.get_or_404(DataRequest, request_id)
    services.close_request(data_request, actor=current_user,
                           today=to_user_timezone(utcnow()).date())
    db.session.commit()
    flash(_("The request is marked as answered."), "success")
    return redirect(url_for("privacy.requests"))
