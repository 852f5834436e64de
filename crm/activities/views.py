"""Notes and follow-ups: recording them on any record, ticking them off, the home page that
lists one's own, the managers' overview, and the timelines of the records' pages."""

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import to_user_timezone
from flask_login import current_user

from crm.activities import queries, services
from crm.activities.calendar import feed as calendar_feed
from crm.activities.forms import ActivityEditForm, ActivityForm
from crm.activities.models import Activity
from crm.audit.downloads import audited_list_download
from crm.auth import services as auth_services
from crm.auth.models import User
from crm.auth.permissions import (
    Permission,
    can_edit_activity,
    can_view_lead,
    has_permission,
    public,
    require,
)
from crm.contacts.models import Contact
from crm.core import exports
from crm.core.errors import render_error
from crm.core.forms import is_safe_redirect, run_service
from crm.core.lists import choice_arg, int_arg
from crm.core.models import utcnow
from crm.core.routing import parse_id
from crm.core.services import ValidationError
from crm.core.tables import Column, Table
from crm.events.models import Event
from crm.extensions import db
from crm.leads.models import Lead
from crm.organisations.models import Organisation

bp = Blueprint("activities", __name__)

SUBJECT_MODELS = {"organisation": Organisation, "contact": Contact, "event": Event, "lead": Lead}
RECORD_TYPES = tuple(SUBJECT_MODELS)


def today():
    """Today in the user's time zone."""
    return to_user_timezone(utcnow()).date()


def subject_or_404(kind, record_id):
    """The record an activity is about, if the user may see it (404 otherwise)."""
    model = SUBJECT_MODELS.get(kind)
    record = db.session.get(model, record_id) if model and record_id else None
    if record is None or record.is_deleted:
        abort(404)
    if kind == "lead" and not can_view_lead(current_user, record):
        abort(404)
    return record


def activity_or_404(activity_id):
    """An activity the user may see: not deleted, and not on a confidential lead kept from them."""
    activity = db.session.get(Activity, activity_id)
    if activity is None or activity.deleted_at is not None:
        abort(404)
    if activity.lead is not None and not can_view_lead(current_user, activity.lead):
        abort(404)
    return activity


def group_follow_ups(follow_ups, day):
    """Follow-ups grouped as overdue, today, this week (to Sunday) and later."""
    end_of_week = day + timedelta(days=6 - day.weekday())
    groups = {"overdue": [], "today": [], "week": [], "later": []}
    for activity in follow_ups:
        if activity.due_on < day:
            groups["overdue"].append(activity)
        elif activity.due_on == day:
            groups["today"].append(activity)
        elif activity.due_on <= end_of_week:
            groups["week"].append(activity)
        else:
            groups["later"].append(activity)
    return groups


@bp.route("/")
def home():
    """My follow-ups and what happened recently on the records I own."""
    day = today()
    mine = db.session.scalars(queries.open_follow_ups(current_user, assignee_id=current_user.id)
                              .limit(200)).all()
    recent = db.session.scalars(queries.recent_on_records_of(current_user)).all()
    return render_template("activities/home.html", today=day, groups=group_follow_ups(mine, day),
                           recent=recent)


def _follow_up_args():
    """Whether the user sees everyone's follow-ups, and the filters from the query."""
    everyone = has_permission(current_user, Permission.VIEW_REPORTS)
    filters = {
        "assignee_id": int_arg("person") if everyone else current_user.id,
        "due_from": _date_arg("due_from"), "due_to": _date_arg("due_to"),
        "record_type": choice_arg("type", RECORD_TYPES),
    }
    return everyone, filters


@bp.route("/follow-ups")
def follow_ups():
    """Open follow-ups: everyone's for managers, one's own for the team."""
    everyone, filters = _follow_up_args()
    day = today()
    rows = db.session.scalars(queries.open_follow_ups(current_user, **filters).limit(500)).all()
    overdue = db.session.execute(queries.overdue_per_person(day)).all() if everyone else []
    people = (db.session.execute(sa.select(User.id, User.name).where(User.is_active.is_(True))
                                 .order_by(User.name_sort)).all() if everyone else [])
    return render_template("activities/follow_ups.html", follow_ups=rows, today=day,
                           filters=filters, overdue=overdue, people=people, everyone=everyone,
                           record_types=RECORD_TYPES)


@bp.route("/follow-ups/export.<any(csv, xlsx):form>")
def follow_ups_export(form):
    """The open follow-ups as filtered, all of them, as CSV or XLSX."""
    everyone, filters = _follow_up_args()
    query = queries.open_follow_ups(current_user, **filters)
    columns = [Column("due_on", _("Due"), "date"), Column("about", _("About")),
               Column("body", _("Text")), Column("author", _("Recorded by"))]
    if everyone:
        columns.insert(1, Column("assignee", _("Person")))
    table = Table("follow_ups", _("Follow-ups"), columns, exports.read_in_parts(query, lambda a: {
        "due_on": a.due_on, "assignee": a.assignee.name if a.assignee else None,
        "about": _about(a), "body": a.body, "author": a.author.name if a.author else None,
    }))
    return audited_list_download(table, form)


def _about(activity):
    if activity.lead is not None:
        return activity.lead.title
    record = activity.contact or activity.organisation or activity.event
    return str(record) if record is not None else None


def _date_arg(name):
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


@bp.post("/activities")
@require(Permission.EDIT_RECORDS)
def create():
    """Record an activity on a record: from its page's small form (htmx or a plain post)."""
    form = ActivityForm()
    form.fill_choices()
    form.validate_on_submit()
    kind = choice_arg_from_form("subject_type")
    subject = subject_or_404(kind, parse_id(request.form.get("subject_id")))
    activity, status = run_service(form, lambda: services.create_activity(
        **form.service_data(), **{kind: subject}, actor=current_user))
    if activity is not None:
        db.session.commit()
    if request.headers.get("HX-Request"):
        # The section again: the fresh timeline and an empty form, or the form with its errors.
        if activity is not None:
            form = ActivityForm(formdata=None)
            form.fill_choices()
        context = timeline_context(kind, subject, form=form)
        return render_template("activities/_section.html", **context), status or 200
    if activity is None:  # without htmx: the form on a page of its own, errors beside fields
        return render_template("activities/new.html", form=form, subject=subject,
                               subject_type=kind), status
    flash(_("The activity has been recorded."), "success")
    return redirect(_back(subject, kind))


def timeline_context(kind, subject, form=None):
    """What a record's page needs for its timeline section (`activities/_section.html`)."""
    if form is None:
        form = ActivityForm(formdata=None)
        form.fill_choices()
    entries, more = queries.timeline(current_user, before=_moment_arg("before"),
                                     **{f"{kind}_id": subject.id})
    return {"activity_form": form, "entries": entries, "more": more, "subject": subject,
            "subject_type": kind, "today": today()}


@bp.post("/activities/<id:activity_id>/done")
@require(Permission.EDIT_RECORDS)
def done(activity_id):
    return _tick(activity_id, services.mark_done)


@bp.post("/activities/<id:activity_id>/open")
@require(Permission.EDIT_RECORDS)
def reopen(activity_id):
    return _tick(activity_id, services.mark_open)


def _tick(activity_id, action):
    activity = activity_or_404(activity_id)
    try:
        action(activity, actor=current_user)
    except ValidationError as error:
        db.session.rollback()
        return render_error(422, _("Not possible"), error.message)
    db.session.commit()
    if request.headers.get("HX-Request"):
        if request.args.get("gone"):
            return ""  # ticked off in a list of open follow-ups: it leaves the list
        return render_template("activities/_activity.html", activity=activity, today=today(),
                               subject_type=None)
    return redirect(_next_or_home())


@bp.route("/activities/<id:activity_id>/edit", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def edit(activity_id):
    activity = activity_or_404(activity_id)
    if not can_edit_activity(current_user, activity):
        abort(403)
    form = ActivityEditForm(obj=activity)
    form.fill_choices(keep=activity.assignee)
    if not form.is_submitted():
        form.occurred_at.data = to_user_timezone(activity.occurred_at).strftime("%Y-%m-%dT%H:%M")
        form.due_on.data = activity.due_on.isoformat() if activity.due_on else ""
        form.assignee_id.data = str(activity.assignee_id or "")
    status = 200
    if form.validate_on_submit():
        saved, status = run_service(form, lambda: services.update_activity(
            activity, form.service_data(), actor=current_user,
            expected_version=form.version.data), record=activity)
        if saved is not None:
            db.session.commit()
            flash(_("The changes have been saved."), "success")
            return redirect(_next_or_home())
    elif form.is_submitted():
        status = 422
    return render_template("activities/form.html", form=form, activity=activity), status


@bp.post("/activities/<id:activity_id>/delete")
@require(Permission.EDIT_RECORDS)
def delete(activity_id):
    activity = activity_or_404(activity_id)
    if not can_edit_activity(current_user, activity):
        abort(403)
    services.delete_activity(activity, actor=current_user)
    db.session.commit()
    flash(_("The activity has been deleted."), "success")
    return redirect(_next_or_home())


@bp.post("/activities/<id:activity_id>/restore")
@require(Permission.RESTORE_RECORDS)
def restore(activity_id):
    """Bring a deleted activity back (admins, from the audit log)."""
    activity = db.get_or_404(Activity, activity_id)
    services.restore_activity(activity, actor=current_user)
    db.session.commit()
    flash(_("The activity has been restored."), "success")
    kind = next(kind for kind in ("lead", "contact", "event", "organisation")
                if getattr(activity, f"{kind}_id") is not None)
    return redirect(_back(getattr(activity, kind), kind))


@bp.route("/calendar/<secret>.ics")
@public
def calendar(secret):
    """A user's private calendar feed; the secret in the address is the only key."""
    user = auth_services.user_for_calendar(secret)
    if user is None:
        abort(404)
    response = Response(calendar_feed(user), mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="lotse.ics"'
    return response


@bp.route("/timeline/<any(organisation, contact, event, lead):kind>/<id:record_id>")
@require(Permission.VIEW_RECORDS)
def timeline(kind, record_id):
    """The next page of a record's timeline (for "show older" on the record's page)."""
    subject = subject_or_404(kind, record_id)
    before = _moment_arg("before")
    entries, more = queries.timeline(current_user, before=before, **{f"{kind}_id": subject.id})
    return render_template("activities/_entries.html", entries=entries, more=more,
                           subject=subject, subject_type=kind, today=today())


def _moment_arg(name):
    try:
        value = datetime.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None
    return value if value.tzinfo else None


def choice_arg_from_form(name):
    value = request.form.get(name, "")
    if value not in RECORD_TYPES:
        abort(404)
    return value


def _back(subject, kind):
    target = request.form.get("next") or request.args.get("next")
    if is_safe_redirect(target):
        return target
    return url_for(f"{kind}s.detail", **{f"{kind}_id": subject.id})


def _next_or_home():
    target = request.form.get("next") or request.args.get("next")
    return target if is_safe_redirect(target) else url_for("activities.home")
