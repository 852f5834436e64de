"""Investor leads in the API: the `leads` resource, a lead's stage and status moves, and the
pipeline report. Who sees a lead is decided by `crm.auth.permissions` and `crm.leads.queries`,
what a move needs by `crm.leads.services`: a confidential lead the user may not see is a 404
everywhere, as if it did not exist.
"""

from datetime import date

from flask import jsonify
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from crm.api.resources import (
    READ_ONLY,
    Resource,
    arguments,
    choice_of,
    committed_json,
    country_arg,
    day_arg,
    flag_arg,
    load,
    read_body,
    read_filters,
    record_fields,
    record_id_arg,
    refuse_bad_arguments,
    take_version,
)
from crm.auth.permissions import (
    Permission,
    can_edit_lead,
    can_view_lead,
    current_actor,
    require,
)
from crm.core.lists import MAX_TEXT_ARG
from crm.core.services import ValidationError, check_fields, check_version
from crm.core.validation import Checker
from crm.extensions import db
from crm.leads import queries as lead_queries
from crm.leads import services as lead_services
from crm.leads.models import InvestmentType, Lead, Likelihood, Stage, Status
from crm.organisations.models import Sector

# Shown on every lead, changed only by the moves themselves.
LEAD_READ_ONLY = (*READ_ONLY, "stage_entered_at", "won_confirmed_by_id", "won_confirmed_at")
# The body of POST /leads/<id>/stage: a stage move, a status change, or both (in this order).
STAGE_MOVE_FIELDS = ("stage", "override_reason")
STATUS_CHANGE_FIELDS = ("status", "lost_reason", "closed_on", "lost_to")
FIGURES = ("count", "capex_eur", "new_jobs", "weighted_capex_eur")


def lead_json(lead):
    values = lead_services.snapshot(lead)
    values.update(stage_entered_at=lead.stage_entered_at,
                  won_confirmed_by_id=lead.won_confirmed_by_id,
                  won_confirmed_at=lead.won_confirmed_at)
    # Dates and moments alike (a datetime is a date) in ISO 8601.
    values.update({k: v.isoformat() for k, v in values.items() if isinstance(v, date)})
    return {**record_fields(lead), **values}


def _lead_list(q=None, **filters):
    """The list page's leads for the acting user: confidential ones only where they may."""
    return lead_queries.lead_list(lead_queries.filtered(current_actor(), q=q, **filters))


LEADS = Resource(
    name="leads", singular="lead", id_arg="lead_id", model=Lead,
    fields=lead_services.FIELDS + lead_services.MOVE_FIELDS,
    get=lead_services.get_lead,
    create=lead_services.create_lead,
    update=lead_services.update_lead,
    delete=lead_services.delete_lead,
    restore=lead_services.restore_lead,
    to_json=lead_json,
    list_query=_lead_list,
    sorts=lead_queries.SORTS,
    filters={"mine": ("mine", flag_arg),
             "owner": ("owner_id", record_id_arg),
             "sector": ("sector", choice_of(Sector)),
             "country": ("country", country_arg),
             "investment_type": ("investment_type", choice_of(InvestmentType)),
             "source_event": ("source_event_id", record_id_arg),
             "referral_partner": ("referral_partner_id", record_id_arg),
             "likelihood": ("likelihood", choice_of(Likelihood)),
             "stage": ("stage", choice_of(Stage)),
             "status": ("status", choice_of(Status)),
             "decision_from": ("decision_from", day_arg),
             "decision_to": ("decision_to", day_arg),
             "show_closed": ("show_closed", flag_arg)},
    eager=(selectinload(Lead.contacts), selectinload(Lead.team_members)),
    list_fields=frozenset({"contact_ids", "team_member_ids"}),
    read_only=LEAD_READ_ONLY,
    can_view=can_view_lead,
    can_edit=can_edit_lead,
)


@require(Permission.EDIT_RECORDS)
def stage_response(lead_id):
    """Move a lead to another stage (`stage`, with `override_reason` for a manager's override)
    and/or change its status (`status`, with `lost_reason`, `closed_on`, `lost_to`); the
    services apply the rules and write the history. `version` is optional here: given, a
    stale one is a 409."""
    arguments(set())
    lead = load(LEADS, lead_id, writing=True)
    data = read_body()
    version = take_version(data) if "version" in data else None
    check_fields(data, STAGE_MOVE_FIELDS + STATUS_CHANGE_FIELDS)
    _check_move(data)
    check_version(lead, version)
    actor = current_actor()
    if "stage" in data:
        lead_services.change_stage(lead, data["stage"], actor=actor,
                                   override_reason=data.get("override_reason"))
    if "status" in data:
        lead_services.change_status(lead, data["status"], actor=actor,
                                    reason=data.get("lost_reason"),
                                    closed_on=data.get("closed_on"), lost_to=data.get("lost_to"))
    return jsonify(committed_json(lead_json, lead))


def _check_move(data):
    """A move names a stage or a status; the details of one (a reason, a date) come only
    with it, so that a detail sent alone is not silently dropped."""
    if "stage" not in data and "status" not in data:
        message = _l("Send the new stage, or the new status.")
        raise ValidationError(message, fields={"stage": [message], "status": [message]})
    stray = [name for names in (STAGE_MOVE_FIELDS, STATUS_CHANGE_FIELDS)
             if names[0] not in data for name in names[1:] if name in data]
    if stray:
        message = _l("This detail belongs to a move: send it with the stage or status it "
                     "explains.")
        raise ValidationError(message, fields={name: [message] for name in stray})


@require(Permission.VIEW_RECORDS)
def pipeline_response():
    """Count, CAPEX, new jobs and weighted CAPEX per stage of the leads the user may see,
    with the list's filters (lost, abandoned and dormant leads hidden unless asked for), in
    one query; the totals are the sums of the stages."""
    check = Checker(arguments({"q", *LEADS.filters}))
    q = check.text("q", max_length=MAX_TEXT_ARG)
    filters = read_filters(check, LEADS)
    refuse_bad_arguments(check)
    conditions = lead_queries.filtered(current_actor(), q=q, **filters)
    rows = {row.stage: row for row in db.session.execute(
        lead_queries.totals(conditions, by_stage=True))}
    stages = [{"stage": stage.value, **_figures(rows.get(stage.value))} for stage in Stage]
    totals = {name: sum(figures[name] for figures in stages) for name in FIGURES}
    return jsonify({"stages": stages, "totals": totals})


def _figures(row):
    if row is None:
        return dict.fromkeys(FIGURES, 0)
    # Sums come back as Decimal on PostgreSQL and the weighted CAPEX as a float: whole euros.
    return {"count": int(row.count), "capex_eur": int(row.capex_eur),
            "new_jobs": int(row.new_jobs), "weighted_capex_eur": round(row.weighted_capex)}
