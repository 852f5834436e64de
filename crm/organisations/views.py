"""Organisations: list, detail, create, edit, delete, restore, typeahead.

The detail page also shows what the later areas record about an organisation (its people,
its events, its timeline), through their queries.
"""

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm.activities.views import timeline_context
from crm.audit.downloads import audited_list_download
from crm.auth.permissions import Permission, can_view_deleted, record_or_404, require
from crm.contacts import queries as contact_queries
from crm.core import exports
from crm.core.countries import COUNTRY_CODES, country_choices
from crm.core.forms import run_service
from crm.core.lists import choice_arg, int_arg, page_args, paginate, sort_arg, text_arg
from crm.core.services import ConflictError
from crm.core.tables import Column, Table
from crm.events import queries as event_queries
from crm.extensions import db
from crm.leads import queries as lead_queries
from crm.organisations import queries, services
from crm.organisations.forms import OrganisationEditForm, OrganisationForm
from crm.organisations.models import OrganisationKind, Sector

bp = Blueprint("organisations", __name__)


def _list_args():
    """The list's filters, sorting and whether it shows the deleted ones, from the query."""
    sort, descending = sort_arg(queries.SORTS, "name")
    deleted = request.args.get("deleted") == "1" and can_view_deleted(current_user)
    filters = {
        "q": text_arg("q"),
        "kind": choice_arg("kind", [k.value for k in OrganisationKind]),
        "country": choice_arg("country", COUNTRY_CODES),
        "sector": choice_arg("sector", [s.value for s in Sector]),
        "tag": text_arg("tag", 50) or None,
    }
    return filters, sort, descending, deleted


@bp.route("/organisations")
@require(Permission.VIEW_RECORDS)
def index():
    filters, sort, descending, deleted = _list_args()
    page, per_page = page_args()
    query = queries.organisation_list(**filters, sort=sort, descending=descending, deleted=deleted)
    return render_template(
        "organisations/index.html", pagination=paginate(query, page, per_page), filters=filters,
        deleted=deleted, kinds=OrganisationKind, sectors=Sector, countries=country_choices(),
        tags=[(t, t) for t in db.session.scalars(queries.all_tags())])


@bp.route("/organisations/export.<any(csv, xlsx):form>")
@require(Permission.VIEW_RECORDS)
def export(form):
    """The list as it is filtered and sorted, all pages, as CSV or XLSX."""
    filters, sort, descending, deleted = _list_args()
    query = queries.organisation_list(**filters, sort=sort, descending=descending,
                                      deleted=deleted)
    table = Table("organisations", _("Deleted organisations") if deleted else _("Organisations"), [
        Column("name", _("Name")), Column("kind", _("Kind")), Column("city", _("City")),
        Column("country", _("Country")), Column("sectors", _("Sectors")),
    ], exports.read_in_parts(query, lambda o: {
        "name": o.name, "kind": o.kind_enum.label, "city": o.city, "country": o.country_name,
        "sectors": ", ".join(o.sector_labels)}))
    return audited_list_download(table, form)


@bp.route("/organisations/new", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def new():
    form = OrganisationForm()
    if not form.is_submitted():
        form.kind.data = request.args.get("kind", OrganisationKind.INVESTOR.value)
        form.name.data = text_arg("name", 300)
    status = 200
    if form.validate_on_submit():
        organisation, status = run_service(form, lambda: services.create_organisation(
            form.service_data(), actor=current_user,
            allow_duplicate=form.confirm_duplicate.data))
        if organisation is not None:
            db.session.commit()
            flash(_("The organisation has been created."), "success")
            return redirect(url_for("organisations.detail", organisation_id=organisation.id))
    elif form.is_submitted():
        status = 422
    return render_template("organisations/form.html", form=form, organisation=None), status


@bp.route("/organisations/<id:organisation_id>")
@require(Permission.VIEW_RECORDS)
def detail(organisation_id):
    organisation = record_or_404(services.get_organisation, organisation_id)
    return render_template(
        "organisations/detail.html", organisation=organisation,
        people=db.session.scalars(contact_queries.people_of(organisation.id)).all(),
        events=db.session.execute(event_queries.events_of_organisation(organisation.id)).all(),
        subsidiaries=db.session.scalars(queries.subsidiaries(organisation.id)).all(),
        leads=db.session.scalars(lead_queries.of_organisation(current_user,
                                                              organisation.id)).all(),
        **timeline_context("organisation", organisation))


@bp.route("/organisations/<id:organisation_id>/edit", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def edit(organisation_id):
    organisation = record_or_404(services.get_organisation, organisation_id, writing=True)
    form = OrganisationEditForm(obj=organisation)
    if not form.is_submitted():
        form.sectors.data = organisation.sectors
        form.tags.data = ", ".join(organisation.tags)
        form.parent_id.data = str(organisation.parent_id or "")
    status = 200
    if form.validate_on_submit():
        saved, status = run_service(form, lambda: services.update_organisation(
            organisation, form.service_data(), actor=current_user,
            expected_version=form.version.data, allow_duplicate=form.confirm_duplicate.data),
            record=organisation)
        if saved is not None:
            db.session.commit()
            flash(_("The changes have been saved."), "success")
            return redirect(url_for("organisations.detail", organisation_id=organisation.id))
    elif form.is_submitted():
        status = 422
    return render_template("organisations/form.html", form=form,
                           organisation=organisation), status


@bp.post("/organisations/<id:organisation_id>/delete")
@require(Permission.EDIT_RECORDS)
def delete(organisation_id):
    organisation = record_or_404(services.get_organisation, organisation_id, writing=True)
    try:
        services.delete_organisation(organisation, actor=current_user)
    except ConflictError as error:
        db.session.rollback()
        flash(str(error.message), "danger")
        return detail(organisation_id), 409
    db.session.commit()
    flash(_("“%(name)s” has been deleted. An administrator can restore it.",
            name=organisation.name), "success")
    return redirect(url_for("organisations.index"))


@bp.post("/organisations/<id:organisation_id>/restore")
@require(Permission.RESTORE_RECORDS)
def restore(organisation_id):
    organisation = record_or_404(services.get_organisation, organisation_id)
    services.restore_organisation(organisation, actor=current_user)
    db.session.commit()
    flash(_("“%(name)s” has been restored.", name=organisation.name), "success")
    return redirect(url_for("organisations.detail", organisation_id=organisation.id))


@bp.route("/organisations/typeahead")
@require(Permission.VIEW_RECORDS)
def typeahead():
    """Organisations for a picker: `[{"id", "name", "city", "country"}]`, best first
    (`?id=` gives the one organisation, for the label of a value already chosen)."""
    q, record_id = text_arg("q", 100), int_arg("id")
    if record_id:  # the label of a value already chosen
        rows = db.session.scalars(queries.by_id(record_id)).all()
    else:
        rows = db.session.scalars(queries.typeahead(q)).all() if q else []
    return jsonify([{"id": o.id, "name": o.name, "city": o.city, "country": o.country}
                    for o in rows])
