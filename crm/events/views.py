"""Events and trips: list, detail, create, edit, delete, restore, attendees, quick capture."""

import sqlalchemy as sa
from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from crm.activities import queries as activity_queries
from crm.activities import services as activity_services
from crm.activities.views import timeline_context, today
from crm.audit.downloads import audited_list_download
from crm.auth.models import User
from crm.auth.permissions import Permission, can_view_deleted, record_or_404, require
from crm.contacts import services as contact_services
from crm.core.countries import COUNTRY_CODES, country_choices
from crm.core.forms import run_service
from crm.core.lists import choice_arg, int_arg, page_args, paginate, sort_arg, text_arg
from crm.core.routing import parse_id
from crm.core.tables import Column, Table
from crm.events import queries, services
from crm.events.forms import AttendeeForm, CaptureForm, EventEditForm, EventForm
from crm.events.models import AttendanceStatus, Event, EventKind
from crm.extensions import db
from crm.leads import queries as lead_queries
from crm.organisations.models import Organisation

bp = Blueprint("events", __name__)


def _list_args():
    """The list's filters, sorting and whether it shows the deleted ones, from the query."""
    sort, descending = sort_arg(queries.SORTS, "-starts_on")
    deleted = request.args.get("deleted") == "1" and can_view_deleted(current_user)
    filters = {
        "q": text_arg("q"),
        "kind": choice_arg("kind", [k.value for k in EventKind]),
        "country": choice_arg("country", COUNTRY_CODES),
        "trip_id": int_arg("trip"),
        "year": int_arg("year", minimum=1900, maximum=2200),
    }
    return filters, sort, descending, deleted


@bp.route("/events")
@require(Permission.VIEW_RECORDS)
def index():
    filters, sort, descending, deleted = _list_args()
    page, per_page = page_args()
    query = queries.event_list(**filters, sort=sort, descending=descending, deleted=deleted)
    pagination = paginate(query, page, per_page)
    counts = dict(db.session.execute(queries.attendee_counts([e.id for e in pagination.items])).all())
    return render_template(
        "events/index.html", pagination=pagination, counts=counts, filters=filters,
        deleted=deleted, kinds=EventKind, countries=country_choices(),
        trips=[(t.id, t.name) for t in db.session.scalars(queries.trips())])


@bp.route("/events/export.<any(csv, xlsx):form>")
@require(Permission.VIEW_RECORDS)
def export(form):
    """The list as it is filtered and sorted, all pages, as CSV or XLSX."""
    filters, sort, descending, deleted = _list_args()
    events = db.session.scalars(queries.event_list(
        **filters, sort=sort, descending=descending, deleted=deleted)).all()
    counts = dict(db.session.execute(queries.attendee_counts([e.id for e in events])).all())
    table = Table("events", _("Deleted events") if deleted else _("Events"), [
        Column("starts_on", _("Start"), "date"), Column("ends_on", _("End"), "date"),
        Column("name", _("Name")), Column("kind", _("Kind")), Column("city", _("City")),
        Column("country", _("Country")), Column("trip", _("Trip")),
        Column("people", _("People"), "count"),
    ], [{"starts_on": e.starts_on, "ends_on": e.ends_on, "name": e.name,
         "kind": e.kind_enum.label, "city": e.city, "country": e.country_name,
         "trip": e.parent.name if e.parent and not e.parent.is_deleted else None,
         "people": counts.get(e.id, 0)} for e in events])
    return audited_list_download(table, form)


@bp.route("/events/new", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def new():
    form = EventForm()
    if not form.is_submitted():
        form.kind.data = request.args.get("kind", EventKind.BUSINESS_BREAKFAST.value)
        form.team_member_ids.data = [str(current_user.id)]
        trip_id = int_arg("trip")
        trip = db.session.get(Event, trip_id) if trip_id else None
        if trip is not None and trip.is_trip and not trip.is_deleted:
            # An event added to a trip starts where the trip is.
            form.parent_id.data = str(trip.id)
            form.starts_on.data = trip.starts_on.isoformat()
            form.city.data, form.country.data = trip.city, trip.country
    status = 200
    if form.validate_on_submit():
        event, status = run_service(form, lambda: services.create_event(
            form.service_data(), actor=current_user))
        if event is not None:
            db.session.commit()
            flash(_("The event has been created."), "success")
            return redirect(url_for("events.detail", event_id=event.id))
    elif form.is_submitted():
        status = 422
    _fill_choices(form)
    return render_template("events/form.html", form=form, event=None), status


@bp.route("/events/<id:event_id>")
@require(Permission.VIEW_RECORDS)
def detail(event_id, capture_form=None, attendee_form=None, status=200):
    event = record_or_404(services.get_event, event_id)
    capture_form = capture_form or CaptureForm()
    attendee_form = attendee_form or AttendeeForm()
    return render_template(
        "events/detail.html", event=event, capture_form=capture_form,
        attendee_form=attendee_form,
        attendances=db.session.scalars(queries.attendees(event)).all(),
        sub_events=db.session.scalars(queries.sub_events(event)).all(),
        leads=db.session.scalars(lead_queries.of_event(current_user, event.id)).all(),
        not_followed_up=db.session.scalars(activity_queries.met_without_activity_since(
            event, activity_services.event_end(event))).all(),
        follow_up_due=max(activity_services.add_working_days(
            event.ends_on, current_app.config["FOLLOW_UP_WORKING_DAYS"]), today()),
        **timeline_context("event", event),
        statuses=AttendanceStatus), status


@bp.route("/events/<id:event_id>/edit", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def edit(event_id):
    event = record_or_404(services.get_event, event_id, writing=True)
    form = EventEditForm(obj=event)
    if not form.is_submitted():
        form.starts_on.data = event.starts_on.isoformat()
        form.ends_on.data = event.ends_on.isoformat()
        form.parent_id.data = str(event.parent_id or "")
        form.partner_ids.data = [str(o.id) for o in event.partners]
        form.team_member_ids.data = [str(u.id) for u in event.team_members]
    status = 200
    if form.validate_on_submit():
        saved, status = run_service(form, lambda: services.update_event(
            event, form.service_data(), actor=current_user, expected_version=form.version.data),
            record=event)
        if saved is not None:
            db.session.commit()
            flash(_("The changes have been saved."), "success")
            return redirect(url_for("events.detail", event_id=event.id))
    elif form.is_submitted():
        status = 422
    _fill_choices(form, keep_team=event.team_members)
    return render_template("events/form.html", form=form, event=event), status


@bp.post("/events/<id:event_id>/delete")
@require(Permission.EDIT_RECORDS)
def delete(event_id):
    event = record_or_404(services.get_event, event_id, writing=True)
    services.delete_event(event, actor=current_user)
    db.session.commit()
    flash(_("“%(name)s” has been deleted. An administrator can restore it.", name=event.name),
          "success")
    return redirect(url_for("events.index"))


@bp.post("/events/<id:event_id>/restore")
@require(Permission.RESTORE_RECORDS)
def restore(event_id):
    event = record_or_404(services.get_event, event_id)
    services.restore_event(event, actor=current_user)
    db.session.commit()
    flash(_("“%(name)s” has been restored.", name=event.name), "success")
    return redirect(url_for("events.detail", event_id=event.id))


@bp.post("/events/<id:event_id>/capture")
@require(Permission.EDIT_RECORDS)
def capture(event_id):
    """"A person met here": contact, organisation, attendance and first note in one submit."""
    event = record_or_404(services.get_event, event_id, writing=True)
    form = CaptureForm()
    form.validate_on_submit()
    existing = parse_id(request.form.get("existing_contact"))
    contact, status = run_service(form, lambda: services.capture_person(
        event, form.service_data(), actor=current_user,
        source=_("Met at %(event)s", event=event.name),
        allow_duplicate=request.form.get("confirm_duplicate") == "y",
        existing_contact_id=existing))
    if contact is None:
        return detail(event_id, capture_form=form, status=status)
    db.session.commit()
    flash(_("%(name)s has been added as met at this event.", name=contact.display_name),
          "success")
    return redirect(url_for("events.detail", event_id=event.id, _anchor="capture"))


@bp.post("/events/<id:event_id>/follow-ups")
@require(Permission.EDIT_RECORDS)
def follow_ups(event_id):
    """Follow-ups for everyone met at the event who has heard nothing from us since."""
    event = record_or_404(services.get_event, event_id, writing=True)
    made = activity_services.follow_up_everyone_met(
        event, body=_("Follow up after %(event)s", event=event.name), actor=current_user,
        today=today(), working_days=current_app.config["FOLLOW_UP_WORKING_DAYS"],
        assign_to_actor=request.form.get("assignee") == "me")
    db.session.commit()
    flash(ngettext("%(num)s follow-up has been created.", "%(num)s follow-ups have been created.",
                   len(made)), "success")
    return redirect(url_for("events.detail", event_id=event.id, _anchor="not-followed-up"))


@bp.post("/events/<id:event_id>/attendees")
@require(Permission.EDIT_RECORDS)
def attendee_add(event_id):
    """Add an existing contact to the event, or change their status."""
    event = record_or_404(services.get_event, event_id, writing=True)
    form = AttendeeForm()
    form.validate_on_submit()

    def save():
        return services.add_attendee(event, form.contact.data, form.status.data,
                                     actor=current_user)

    saved, status = run_service(form, save)
    if saved is None:
        return detail(event_id, attendee_form=form, status=status)
    db.session.commit()
    flash(_("The attendee list has been updated."), "success")
    return redirect(url_for("events.detail", event_id=event.id, _anchor="attendees"))


@bp.post("/events/<id:event_id>/attendees/<id:contact_id>/remove")
@require(Permission.EDIT_RECORDS)
def attendee_remove(event_id, contact_id):
    event = record_or_404(services.get_event, event_id, writing=True)
    contact = record_or_404(contact_services.get_contact, contact_id)
    services.remove_attendance(event, contact, actor=current_user)
    db.session.commit()
    flash(_("%(name)s has been removed from the attendees.", name=contact.display_name),
          "success")
    return redirect(url_for("events.detail", event_id=event.id, _anchor="attendees"))


@bp.route("/events/typeahead")
@require(Permission.VIEW_RECORDS)
def typeahead():
    """Events for a picker (`?trips=1`: trips only): `[{"id", "name", "starts_on", "kind"}]`."""
    q = text_arg("q", 100)
    rows = (db.session.scalars(queries.typeahead(q, trips_only=request.args.get("trips") == "1"))
            .all() if q else [])
    return jsonify([{"id": e.id, "name": e.name, "kind": e.kind,
                     "starts_on": e.starts_on.isoformat(), "label": _event_label(e)}
                    for e in rows])


def _event_label(event):
    return f"{event.name} ({format_date(event.starts_on)})"


def _fill_choices(form, keep_team=()):
    """Pickers offer what is chosen (typeahead finds the rest), team members all colleagues."""
    parent_id = parse_id(form.parent_id.data)
    parent = db.session.get(Event, parent_id) if parent_id else None
    trips = db.session.scalars(queries.trips().limit(50)).all()
    if parent is not None and parent not in trips:
        trips.append(parent)
    form.parent_id.choices = [("", "–")] + [(str(t.id), _event_label(t)) for t in trips]
    partner_ids = [i for i in map(parse_id, form.partner_ids.data or []) if i]
    partners = db.session.scalars(sa.select(Organisation).where(
        Organisation.id.in_(partner_ids))).all() if partner_ids else []
    form.partner_ids.choices = [(str(o.id), o.name) for o in partners]
    team = [(str(uid), name) for uid, name in db.session.execute(
        sa.select(User.id, User.name).where(User.is_active.is_(True)).order_by(User.name_sort))]
    # A colleague deactivated since stays on the event unless taken off on purpose.
    team += [(str(u.id), u.name) for u in keep_team if str(u.id) not in dict(team)]
    form.team_member_ids.choices = team
