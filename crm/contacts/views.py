"""Contacts: list, detail, create, edit, delete, restore, affiliations, typeahead."""

import functools

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from crm.activities.views import timeline_context
from crm.audit.downloads import audited, audited_list_download, audited_record_download
from crm.auth.models import User
from crm.auth.permissions import Permission, can_view_deleted, record_or_404, require
from crm.contacts import queries, services
from crm.contacts.forms import AffiliationForm, ContactCreateForm, ContactEditForm, ContactForm
from crm.contacts.models import CONTACT_LANGUAGES, Contact, plain_name, titled
from crm.contacts.vcard import vcard, vcards
from crm.core import exports
from crm.core.forms import run_service
from crm.core.lists import choice_arg, int_arg, page_args, paginate, sort_arg, text_arg
from crm.core.tables import Column, Table
from crm.events import queries as event_queries
from crm.events.models import AttendanceStatus, Event
from crm.extensions import db
from crm.leads import queries as lead_queries
from crm.organisations.models import Organisation

bp = Blueprint("contacts", __name__)
# Erased people are left out of every download.
NOT_ERASED = Contact.erased_at.is_(None)
# The fields of a person the list's download shows (with owner and organisations).
EXPORTED_FIELDS = (Contact.academic_title, Contact.first_name, Contact.last_name,
                   Contact.latin_name, Contact.position, Contact.email, Contact.do_not_contact)


def _list_args():
    """The list's filters, sorting and whether it shows the deleted ones, from the query."""
    sort, descending = sort_arg(queries.SORTS, "name")
    deleted = request.args.get("deleted") == "1" and can_view_deleted(current_user)
    filters = {
        "q": text_arg("q"),
        "organisation_id": int_arg("organisation"),
        "tag": text_arg("tag", 50) or None,
        "owner_id": int_arg("owner"),
        "language": choice_arg("language", CONTACT_LANGUAGES),
        "event_id": int_arg("event"),
        "met": request.args.get("met") == "1",
        "new": request.args.get("new") == "1",
        "met_by": int_arg("met_by"),
    }
    return filters, sort, descending, deleted


@bp.route("/contacts")
@require(Permission.VIEW_RECORDS)
def index():
    filters, sort, descending, deleted = _list_args()
    page, per_page = page_args()
    query = queries.contact_list(**filters, sort=sort, descending=descending, deleted=deleted)
    organisation = (db.session.get(Organisation, filters["organisation_id"])
                    if filters["organisation_id"] else None)
    if organisation is not None and organisation.is_deleted and not can_view_deleted(current_user):
        organisation = None
    event = db.session.get(Event, filters["event_id"]) if filters["event_id"] else None
    if event is not None and event.deleted_at is not None:
        event = None
    return render_template(
        "contacts/index.html", pagination=paginate(query, page, per_page), filters=filters,
        deleted=deleted, organisation=organisation, event=event, owners=_owners(),
        tags=[(t, t) for t in db.session.scalars(queries.all_tags())],
        languages=ContactForm().language.choices[1:])


@bp.route("/contacts/export.<any(csv, xlsx, vcf):form>")
@require(Permission.VIEW_RECORDS)
def export(form):
    """The list as it is filtered and sorted, all pages, as CSV, XLSX or vCards; erased
    people are left out, people who must not be contacted are marked (not in vCards, which
    have no place for it)."""
    filters, sort, descending, deleted = _list_args()
    listed = functools.partial(queries.contact_list, **filters, sort=sort,
                               descending=descending, deleted=deleted)
    title = _("Deleted contacts") if deleted else _("Contacts")
    if form == "vcf":
        contacts = db.session.scalars(listed().where(NOT_ERASED)).all()
        return audited(title, form, exports.vcard_response(vcards(contacts), title))
    table = Table("contacts", title, [
        Column("name", _("Name")), Column("latin_name", _("Name in Latin letters")),
        Column("position", _("Position")), Column("organisations", _("Organisation")),
        Column("email", _("Email address")), Column("owner", _("Owner")),
        Column("do_not_contact", _("Do not contact")),
    ], _export_rows(listed(columns=[Contact.id, *EXPORTED_FIELDS, User.name])))
    return audited_list_download(table, form)


def _export_rows(query):
    """The download's rows from `query` (the list's, selecting the id, `EXPORTED_FIELDS` and
    the owner's name), read as plain rows (no objects) `EXPORT_CHUNK` at a time, each part
    with one query of its people's organisations: all 200,000 people in seconds."""
    query = query.outerjoin(User, User.id == Contact.owner_id).where(NOT_ERASED)
    result = db.session.execute(query.execution_options(yield_per=exports.EXPORT_CHUNK))
    for part in result.partitions():
        organisations = {}
        for contact_id, name in db.session.execute(
                queries.current_organisations([row[0] for row in part])):
            organisations.setdefault(contact_id, []).append(name)
        for contact_id, title, first, last, latin, position, email, do_not_contact, owner \
                in part:
            yield {"name": titled(title, plain_name(first, last)), "latin_name": latin,
                   "position": position,
                   "organisations": ", ".join(organisations.get(contact_id, ())),
                   "email": email, "owner": owner,
                   "do_not_contact": _("yes") if do_not_contact else None}


@bp.route("/contacts/<id:contact_id>/vcard")
@require(Permission.VIEW_RECORDS)
def vcard_download(contact_id):
    """One person as a vCard, for a phone or a mail program; nothing for an erased one."""
    contact = record_or_404(services.get_contact, contact_id)
    if contact.erased_at is not None:
        abort(404)
    return audited_record_download(contact, "vcf", exports.vcard_response(
        vcard(contact), contact.latin_name or contact.plain_name))


@bp.route("/contacts/new", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def new():
    form = ContactCreateForm()
    if not form.is_submitted():
        form.owner_id.data = str(current_user.id)
        form.legal_basis.data = _default_legal_basis()
        form.organisation.data = request.args.get("organisation", "")
    status = 200
    if form.validate_on_submit():
        contact, status = run_service(form, lambda: services.create_contact(
            form.service_data(), actor=current_user,
            allow_duplicate=form.confirm_duplicate.data))
        if contact is not None:
            db.session.commit()
            flash(_("The contact has been created."), "success")
            return redirect(url_for("contacts.detail", contact_id=contact.id))
    elif form.is_submitted():
        status = 422
    form.owner_id.choices = _owner_choices()
    return render_template("contacts/form.html", form=form, contact=None), status


@bp.route("/contacts/<id:contact_id>")
@require(Permission.VIEW_RECORDS)
def detail(contact_id):
    contact = record_or_404(services.get_contact, contact_id)
    return render_template(
        "contacts/detail.html", contact=contact, affiliation_form=AffiliationForm(),
        events=_events_of(contact),
        leads=db.session.scalars(lead_queries.of_contact(current_user, contact.id)).all(),
        **timeline_context("contact", contact))


@bp.route("/contacts/<id:contact_id>/edit", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def edit(contact_id):
    contact = record_or_404(services.get_contact, contact_id, writing=True)
    form = ContactEditForm(obj=contact)
    if not form.is_submitted():
        form.tags.data = ", ".join(contact.tags)
        form.owner_id.data = str(contact.owner_id or "")
    status = 200
    if form.validate_on_submit():
        saved, status = run_service(form, lambda: services.update_contact(
            contact, form.service_data(), actor=current_user,
            expected_version=form.version.data, allow_duplicate=form.confirm_duplicate.data),
            record=contact)
        if saved is not None:
            db.session.commit()
            flash(_("The changes have been saved."), "success")
            return redirect(url_for("contacts.detail", contact_id=contact.id))
    elif form.is_submitted():
        status = 422
    form.owner_id.choices = _owner_choices(keep=contact.owner)
    return render_template("contacts/form.html", form=form, contact=contact), status


@bp.post("/contacts/<id:contact_id>/delete")
@require(Permission.EDIT_RECORDS)
def delete(contact_id):
    contact = record_or_404(services.get_contact, contact_id, writing=True)
    services.delete_contact(contact, actor=current_user)
    db.session.commit()
    flash(_("“%(name)s” has been deleted. An administrator can restore it.",
            name=contact.display_name), "success")
    return redirect(url_for("contacts.index"))


@bp.post("/contacts/<id:contact_id>/restore")
@require(Permission.RESTORE_RECORDS)
def restore(contact_id):
    contact = record_or_404(services.get_contact, contact_id)
    services.restore_contact(contact, actor=current_user)
    db.session.commit()
    flash(_("“%(name)s” has been restored.", name=contact.display_name), "success")
    return redirect(url_for("contacts.detail", contact_id=contact.id))


@bp.post("/contacts/<id:contact_id>/affiliations")
@require(Permission.EDIT_RECORDS)
def affiliation_add(contact_id):
    """Link the contact to an organisation (picked, or new by name), with a role."""
    contact = record_or_404(services.get_contact, contact_id, writing=True)
    form = AffiliationForm()
    form.validate_on_submit()

    def save():
        return services.add_affiliation_by_reference(
            contact, form.organisation.data, role=form.role.data,
            is_current=form.is_current.data, actor=current_user)

    saved, status = run_service(form, save)
    if saved is None:
        return render_template(
            "contacts/detail.html", contact=contact, affiliation_form=form,
            events=_events_of(contact),
            leads=db.session.scalars(lead_queries.of_contact(current_user, contact.id)).all(),
            **timeline_context("contact", contact),
        ), status
    db.session.commit()
    flash(_("The organisation has been added."), "success")
    return redirect(url_for("contacts.detail", contact_id=contact.id))


@bp.post("/contacts/<id:contact_id>/affiliations/<id:organisation_id>/remove")
@require(Permission.EDIT_RECORDS)
def affiliation_remove(contact_id, organisation_id):
    contact = record_or_404(services.get_contact, contact_id, writing=True)
    services.remove_affiliation(contact, organisation_id, actor=current_user)
    db.session.commit()
    flash(_("The organisation has been removed from this contact."), "success")
    return redirect(url_for("contacts.detail", contact_id=contact.id))


@bp.route("/contacts/typeahead")
@require(Permission.VIEW_RECORDS)
def typeahead():
    """Contacts for a picker: `[{"id", "name", "latin_name", "organisation", "email"}]`, best
    first (`?id=` gives the one contact, for the label of a value already chosen)."""
    q, record_id = text_arg("q", 100), int_arg("id")
    if record_id:  # the label of a value already chosen
        rows = db.session.scalars(queries.typeahead_by_id(record_id)).all()
    else:
        rows = db.session.scalars(queries.typeahead(q)).all() if q else []
    return jsonify([{
        "id": c.id, "name": c.display_name, "latin_name": c.latin_name, "email": c.email,
        "organisation": ", ".join(a.organisation.name for a in c.current_affiliations),
    } for c in rows])


def _events_of(contact):
    return [(event, AttendanceStatus(status)) for event, status
            in db.session.execute(event_queries.events_of_contact(contact.id))]


def _owners():
    return db.session.execute(sa.select(User.id, User.name).where(User.is_active.is_(True))
                              .order_by(User.name_sort)).all()


def _owner_choices(keep=None):
    """Active colleagues, and the current owner even if deactivated (else saving would drop it)."""
    choices = [(str(uid), name) for uid, name in _owners()]
    if keep is not None and str(keep.id) not in {value for value, _ in choices}:
        choices.append((str(keep.id), keep.name))
    return [("", "–")] + choices


def _default_legal_basis():
    return current_app.config["DEFAULT_LEGAL_BASIS"]
