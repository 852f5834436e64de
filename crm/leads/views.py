"""Investor leads: the list, the pipeline board, a lead's page, and moving leads on."""

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from crm.activities.views import timeline_context, today
from crm.audit.downloads import audited_list_download
from crm.auth.models import User
from crm.auth.permissions import Permission, can_edit_lead, can_view_lead, record_or_404, require
from crm.contacts.models import Contact
from crm.core import exports
from crm.core.countries import COUNTRY_CODES, country_choices
from crm.core.errors import error_response
from crm.core.forms import apply_errors, is_safe_redirect, run_service
from crm.core.lists import (
    MAX_TEXT_ARG,
    choice_arg,
    int_arg,
    page_args,
    paginate,
    sort_arg,
    text_arg,
)
from crm.core.routing import parse_id
from crm.core.services import ServiceError
from crm.core.tables import Column, Table
from crm.core.validation import LONG_TEXT_MAX
from crm.events.models import Event
from crm.events.queries import recent_events
from crm.extensions import db
from crm.leads import queries, rules, services
from crm.leads.forms import LeadEditForm, LeadForm, StageForm, StatusForm
from crm.leads.models import InvestmentType, Likelihood, Stage, Status
from crm.organisations.models import Organisation, Sector
from crm.reports.queries import (
    FIRST_YEAR,
    LAST_YEAR,
    MAX_STALLED_DAYS,
    ORIGINS,
    Period,
    stalled_since,
)

bp = Blueprint("leads", __name__)


def lead_or_404(lead_id, *, writing=False):
    """A lead the user may see (404 otherwise, never a hint that it exists); for `writing`,
    one they may change (403 if they may only see it)."""
    lead = record_or_404(services.get_lead, lead_id, writing=writing)
    if not can_view_lead(current_user, lead):
        abort(404)
    if writing and not can_edit_lead(current_user, lead):
        abort(403)
    return lead


def _filters(*, board=False):
    """The filters of the list and the board, from the query string (allow-listed)."""
    filters = {
        "q": text_arg("q"),
        "mine": request.args.get("mine") == "1",
        "owner_id": int_arg("owner"),
        "sector": choice_arg("sector", [s.value for s in Sector]),
        "country": choice_arg("country", COUNTRY_CODES),
        "investment_type": choice_arg("investment_type", [t.value for t in InvestmentType]),
        "source_event_id": int_arg("event"),
        "referral_partner_id": int_arg("partner"),
        "likelihood": choice_arg("likelihood", [v.value for v in Likelihood]),
        "show_closed": request.args.get("closed") == "1",
    }
    if not board:
        filters.update(
            stage=choice_arg("stage", [s.value for s in Stage]),
            status=choice_arg("status", [s.value for s in Status]),
            decision_from=_date_arg("decision_from"), decision_to=_date_arg("decision_to"),
            **_report_filters())
    return filters


def _from_report(filters):
    """Whether the list shows what a number on the reports counts."""
    return any(filters.get(name) not in (None, False) for name in REPORT_FILTERS)


REPORT_FILTERS = ("won_between", "created_between", "closed_from", "closed_to", "origin",
                  "open_only", "quiet_since", "reached", "brought_by", "lost_reason", "lost_to")


def _report_filters():
    """The filters the reports' numbers link with, so that the list shows what they count."""
    def days(name):
        start, end = _date_arg(f"{name}_from"), _date_arg(f"{name}_to")
        if start is None and end is None:
            return None
        first, last = date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31)
        start = min(max(start or first, first), last)
        end = min(max(end or last, first), last)
        return Period(start, end).moments()

    stalled = int_arg("stalled", maximum=MAX_STALLED_DAYS)
    return {
        "won_between": days("won"), "created_between": days("created"),
        "closed_from": _date_arg("closed_from"), "closed_to": _date_arg("closed_to"),
        "origin": choice_arg("origin", ORIGINS), "open_only": request.args.get("open") == "1",
        "quiet_since": stalled_since(today(), stalled) if stalled else None,
        "reached": choice_arg("reached", [s.value for s in Stage]),
        "brought_by": int_arg("brought_by"),
        "lost_reason": _exact_arg("lost_reason", LONG_TEXT_MAX),
        "lost_to": _exact_arg("lost_to"),
    }


def _exact_arg(name, longest=MAX_TEXT_ARG):
    """A text to match exactly: absent is no filter, empty matches records without one."""
    value = request.args.get(name)
    return None if value is None else value.strip()[:longest]


def _date_arg(name):
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _filter_options():
    return {
        "owners": db.session.execute(sa.select(User.id, User.name).where(User.is_active.is_(True))
                                     .order_by(User.name_sort)).all(),
        "sectors": Sector.choices(), "countries": country_choices(),
        "investment_types": InvestmentType.choices(), "likelihoods": Likelihood.choices(),
        "stages": Stage.choices(), "statuses": Status.choices(),
        "events": [(e.id, f"{e.name} ({format_date(e.starts_on)})")
                   for e in db.session.scalars(recent_events())],
        "partners": db.session.execute(
            sa.select(Organisation.id, Organisation.name)
            .where(Organisation.kind.in_(("partner", "chamber", "public_body")),
                   Organisation.deleted_at.is_(None))
            .order_by(Organisation.name_sort).limit(200)).all(),
    }


@bp.route("/leads")
@require(Permission.VIEW_RECORDS)
def index():
    filters = _filters()
    sort, descending = sort_arg(queries.SORTS, "-updated_at")
    page, per_page = page_args()
    conditions = queries.filtered(current_user, **filters)
    pagination = paginate(queries.lead_list(conditions, sort=sort, descending=descending),
                          page, per_page)
    totals = db.session.execute(queries.totals(conditions)).one()
    return render_template("leads/index.html", pagination=pagination, totals=totals,
                           filters=filters, from_report=_from_report(filters),
                           **_filter_options())


@bp.route("/leads/export.<any(csv, xlsx):form>")
@require(Permission.VIEW_RECORDS)
def export(form):
    """The list as it is filtered and sorted, all pages, as CSV or XLSX: only the leads the
    user may see, as on the page."""
    sort, descending = sort_arg(queries.SORTS, "-updated_at")
    conditions = queries.filtered(current_user, **_filters())
    query = queries.lead_list(conditions, sort=sort, descending=descending)
    table = Table("leads", _("Leads"), [
        Column("title", _("Lead")), Column("investor", _("Investor")),
        Column("stage", _("Stage")), Column("status", _("Status")),
        Column("capex_eur", _("CAPEX"), "eur"), Column("new_jobs", _("New jobs"), "count"),
        Column("expected_decision_on", _("Expected decision"), "date"),
        Column("owner", _("Project manager")), Column("confidential", _("confidential")),
    ], exports.read_in_parts(query, lambda lead: {
        "title": lead.title, "investor": lead.organisation.name,
        "stage": lead.stage_enum.label, "status": lead.status_enum.label,
        "capex_eur": lead.capex_eur, "new_jobs": lead.new_jobs,
        "expected_decision_on": lead.expected_decision_on,
        "owner": lead.owner.name if lead.owner else None,
        "confidential": _("yes") if lead.is_confidential else None}))
    return audited_list_download(table, form)


@bp.route("/pipeline")
@require(Permission.VIEW_RECORDS)
def pipeline():
    filters = _filters(board=True)
    conditions = queries.filtered(current_user, **filters)
    totals = {row.stage: row for row in db.session.execute(
        queries.totals(conditions, by_stage=True))}
    cards = {stage: [] for stage in Stage}
    user = current_user._get_current_object()  # asked about each card: not through the proxy
    for lead, follow_up in db.session.execute(queries.board_cards(conditions)):
        cards[lead.stage_enum].append((lead, follow_up, can_edit_lead(user, lead)))
    return render_template("leads/pipeline.html", cards=cards, totals=totals, filters=filters,
                           stage_form=StageForm(), limit=queries.BOARD_CARDS_PER_STAGE,
                           **_filter_options())


@bp.route("/leads/new", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def new():
    form = LeadForm()
    if not form.is_submitted():
        values = services.prefill(
            organisation=_visible(Organisation, int_arg("organisation")),
            contact=_visible(Contact, int_arg("contact")),
            event=_visible(Event, int_arg("event")))
        form.process(data={"owner_id": str(current_user.id), **{
            k: (list(map(str, v)) if isinstance(v, list) else str(v)) for k, v in values.items()}})
    status = 200
    if form.validate_on_submit():
        lead, status = run_service(form, lambda: services.create_lead(form.service_data(),
                                                                      actor=current_user))
        if lead is not None:
            db.session.commit()
            flash(_("The lead has been created."), "success")
            return redirect(url_for("leads.detail", lead_id=lead.id))
    elif form.is_submitted():
        status = 422
    _fill_choices(form)
    return render_template("leads/form.html", form=form, lead=None), status


@bp.route("/leads/<id:lead_id>")
@require(Permission.VIEW_RECORDS)
def detail(lead_id, stage_form=None, status_form=None, status=200):
    lead = lead_or_404(lead_id)
    next_stage = rules.next_stage(lead.stage)
    stage_form = stage_form or StageForm(stage=next_stage.value if next_stage else lead.stage)
    status_form = status_form or StatusForm(status=lead.status)
    changes = db.session.scalars(queries.history(lead)).all()
    return render_template(
        "leads/detail.html", lead=lead, next_stage=next_stage,
        missing=rules.missing_for(lead, next_stage) if next_stage else [],
        stage_form=stage_form, status_form=status_form, **timeline_context("lead", lead),
        days=queries.days_per_stage(changes), may_edit=can_edit_lead(current_user, lead),
        weighted=rules.weighted_capex(lead)), status


@bp.route("/leads/<id:lead_id>/edit", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def edit(lead_id):
    lead = lead_or_404(lead_id, writing=True)
    form = LeadEditForm(obj=lead)
    if not form.is_submitted():
        for field in ("organisation_id", "owner_id", "source_event_id", "referral_partner_id"):
            getattr(form, field).data = str(getattr(lead, field) or "")
        form.is_new_investor.data = {None: "", True: "true", False: "false"}[lead.is_new_investor]
        form.contact_ids.data = [str(c.id) for c in lead.contacts]
        form.team_member_ids.data = [str(u.id) for u in lead.team_members]
        for field in ("expected_decision_on", "decided_on"):
            value = getattr(lead, field)
            getattr(form, field).data = value.isoformat() if value else ""
    status = 200
    if form.validate_on_submit():
        saved, status = run_service(form, lambda: services.update_lead(
            lead, form.service_data(), actor=current_user, expected_version=form.version.data),
            record=lead)
        if saved is not None:
            db.session.commit()
            flash(_("The changes have been saved."), "success")
            return redirect(url_for("leads.detail", lead_id=lead.id))
    elif form.is_submitted():
        status = 422
    _fill_choices(form, lead)
    return render_template("leads/form.html", form=form, lead=lead), status


@bp.post("/leads/<id:lead_id>/stage")
@require(Permission.EDIT_RECORDS)
def stage(lead_id):
    """Move the lead to another stage: from the board (by dragging: JSON), a card's or the
    lead page's form (a plain post)."""
    wants_json = request.accept_mimetypes.best == "application/json"
    lead = lead_or_404(lead_id, writing=True)
    form = StageForm()
    form.validate_on_submit()
    try:
        services.change_stage(lead, form.stage.data, actor=current_user,
                              override_reason=form.override_reason.data or None)
    except ServiceError as error:
        db.session.rollback()
        if wants_json:
            return error_response(error.status, error.message, code=error.code,
                                  fields=error.fields)
        apply_errors(form, error)
        return detail(lead_id, stage_form=form, status=error.status)
    db.session.commit()
    message = _("“%(title)s” is now in the stage “%(stage)s”.", title=lead.title,
                stage=lead.stage_enum.label)
    if wants_json:
        return jsonify(message=message, stage=lead.stage, status=lead.status)
    flash(message, "success")
    target = request.args.get("next")
    return redirect(target if is_safe_redirect(target) else url_for("leads.detail",
                                                                     lead_id=lead.id))


@bp.post("/leads/<id:lead_id>/status")
@require(Permission.EDIT_RECORDS)
def status(lead_id):
    lead = lead_or_404(lead_id, writing=True)
    form = StatusForm()
    form.validate_on_submit()
    saved, error_status = run_service(form, lambda: services.change_status(
        lead, form.status.data, actor=current_user, reason=form.lost_reason.data or None,
        closed_on=form.closed_on.data or None, lost_to=form.lost_to.data or None))
    if saved is None:
        return detail(lead_id, status_form=form, status=error_status)
    db.session.commit()
    flash(_("The status is now “%(status)s”.", status=lead.status_enum.label), "success")
    return redirect(url_for("leads.detail", lead_id=lead.id))


@bp.post("/leads/<id:lead_id>/delete")
@require(Permission.EDIT_RECORDS)
def delete(lead_id):
    lead = lead_or_404(lead_id, writing=True)
    services.delete_lead(lead, actor=current_user)
    db.session.commit()
    flash(_("“%(name)s” has been deleted. An administrator can restore it.", name=lead.title),
          "success")
    return redirect(url_for("leads.index"))


@bp.post("/leads/<id:lead_id>/restore")
@require(Permission.RESTORE_RECORDS)
def restore(lead_id):
    lead = lead_or_404(lead_id)
    services.restore_lead(lead, actor=current_user)
    db.session.commit()
    flash(_("“%(name)s” has been restored.", name=lead.title), "success")
    return redirect(url_for("leads.detail", lead_id=lead.id))


@bp.route("/leads/typeahead")
@require(Permission.VIEW_RECORDS)
def typeahead():
    """Leads the user may see, for a picker: `[{"id", "name", "organisation", "stage"}]`."""
    q = text_arg("q", 100)
    rows = db.session.scalars(queries.typeahead(current_user, q)).all() if q else []
    return jsonify([{"id": lead.id, "name": lead.title, "organisation": lead.organisation.name,
                     "stage": lead.stage} for lead in rows])


def _visible(model, record_id):
    record = db.session.get(model, record_id) if record_id else None
    return None if record is None or record.is_deleted else record


def _fill_choices(form, lead=None):
    """Owners and team from the active colleagues (plus those on the lead already); contacts
    and the source event from what is chosen (the pickers find more)."""
    keep = ([lead.owner] if lead and lead.owner else []) + (list(lead.team_members) if lead else [])
    users = [(str(uid), name) for uid, name in db.session.execute(
        sa.select(User.id, User.name).where(User.is_active.is_(True)).order_by(User.name_sort))]
    users += [(str(u.id), u.name) for u in keep if str(u.id) not in dict(users)]
    form.owner_id.choices = [("", "–")] + users
    form.team_member_ids.choices = users
    contact_ids = [i for i in map(parse_id, form.contact_ids.data or []) if i]
    form.contact_ids.choices = [(str(c.id), c.display_name) for c in db.session.scalars(
        sa.select(Contact).where(Contact.id.in_(contact_ids)))] if contact_ids else []
    events = list(db.session.scalars(recent_events()))
    chosen = parse_id(form.source_event_id.data)
    if chosen and chosen not in {e.id for e in events}:
        event = db.session.get(Event, chosen)
        if event is not None:
            events.append(event)
    form.source_event_id.choices = [("", "–")] + [(str(e.id), e.name) for e in events]

