"""Investor leads: creating and changing them, and moving them through stages and statuses.

Every change of stage or status writes a StageChange row; the stage rules are in `rules.py`.
Who may see or change a lead at all is decided by `crm.auth.permissions` (callers check it);
the rules here are about the lead's life: which move needs a manager, what a stage requires.
"""

from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from crm.audit.services import diff, record
from crm.auth.models import User
from crm.auth.permissions import Permission, has_permission
from crm.contacts.models import Contact
from crm.core.models import local_today, utcnow
from crm.core.services import (
    NotFoundError,
    ServiceError,
    ValidationError,
    check_fields,
    check_version,
    restore,
    soft_delete,
    touch,
)
from crm.core.validation import LONG_TEXT_MAX, Checker
from crm.events.models import Event
from crm.extensions import db
from crm.leads import rules
from crm.leads.models import (
    BusinessActivity,
    InvestmentType,
    Lead,
    LeadSource,
    Likelihood,
    Stage,
    StageChange,
    Status,
)
from crm.organisations.models import Organisation, Sector

FIELDS = (
    "title", "organisation_id", "contact_ids", "owner_id", "team_member_ids", "sector", "country",
    "investment_type", "business_activity", "is_new_investor", "description",
    "capex_eur", "capex_is_estimate", "capex_unknown",
    "new_jobs", "new_jobs_is_estimate", "new_jobs_unknown",
    "safeguarded_jobs", "safeguarded_jobs_is_estimate", "safeguarded_jobs_unknown",
    "realised_capex_eur", "realised_new_jobs", "realised_safeguarded_jobs",
    "likelihood", "expected_decision_on", "candidate_sites", "competing_locations",
    "chosen_site", "decided_on", "source", "source_event_id", "referral_partner_id",
    "is_confidential",
)
# Changed through change_stage / change_status, which apply the rules and keep the history.
MOVE_FIELDS = ("stage", "status", "lost_reason", "closed_on", "lost_to", "override_reason")
SIMPLE_FIELDS = tuple(f for f in FIELDS if f not in ("contact_ids", "team_member_ids"))
MIN_DATE = date(1990, 1, 1)


class StageRefused(ServiceError):
    """A move the rules do not allow; `missing` lists the requirements not met."""

    code = "stage_refused"
    status = 422

    def __init__(self, message, fields=None, missing=()):
        super().__init__(message, fields)
        self.missing = list(missing)


def get_lead(lead_id, *, include_deleted=False):
    lead = db.session.get(Lead, lead_id)
    if lead is None or (lead.is_deleted and not include_deleted):
        raise NotFoundError(_l("There is no such lead."))
    return lead


def snapshot(lead):
    """The lead's fields as the API and the audit log see them."""
    values = {field: getattr(lead, field) for field in SIMPLE_FIELDS}
    values.update(stage=lead.stage, status=lead.status, lost_reason=lead.lost_reason,
                  closed_on=lead.closed_on, lost_to=lead.lost_to,
                  contact_ids=sorted(c.id for c in lead.contacts),
                  team_member_ids=sorted(u.id for u in lead.team_members))
    return values


def create_lead(data, *, actor):
    """A new lead at stage `lead`, status `ongoing`, owned by its creator unless said otherwise.

    `stage` and `status` may be given to record a lead that is further along; the same rules
    apply as for a move.
    """
    check_fields(data, FIELDS + MOVE_FIELDS)
    data = dict(data)
    moves = {k: data.pop(k) for k in MOVE_FIELDS if k in data}
    defaults = {**dict.fromkeys(FIELDS), "owner_id": getattr(actor, "id", None),
                "contact_ids": [], "team_member_ids": []}
    clean = _clean({**defaults, **data}, lead=None)
    # All or nothing: a refused stage or status leaves no half-made lead behind.
    with db.session.begin_nested():
        lead = Lead(created_by_id=getattr(actor, "id", None), stage=Stage.LEAD.value,
                    status=Status.ONGOING.value, stage_entered_at=utcnow())
        _apply(lead, clean)
        db.session.add(lead)
        db.session.flush()
        lead.stage_changes.append(StageChange(
            from_stage=None, to_stage=lead.stage, from_status=None, to_status=lead.status,
            changed_by_id=_id(actor)))
        record("lead.create", actor=actor, record=lead, changes=diff({}, snapshot(lead)))
        _apply_moves(lead, moves, actor=actor)
        db.session.flush()
    return lead


def update_lead(lead, data, *, actor, expected_version=None):
    """Change the fields given; a new `stage` or `status` goes through the move rules."""
    check_version(lead, expected_version)
    check_fields(data, FIELDS + MOVE_FIELDS)
    data = dict(data)
    moves = {k: data.pop(k) for k in MOVE_FIELDS if k in data}
    before = snapshot(lead)
    clean = _clean({**{k: before[k] for k in FIELDS}, **data}, lead=lead)
    if moves.get("stage") == Stage.WON.value:
        _check_win_confirmation(lead, actor)  # against the lead as it was, not as edited now
    _check_won_figures(lead, clean, actor)
    # All or nothing: a refused move undoes the field changes made with it.
    with db.session.begin_nested():
        _apply(lead, clean)
        _keep_requirements(lead, before, actor)
        changes = diff(before, snapshot(lead))
        if changes:
            touch(lead)
            db.session.flush()
            record("lead.update", actor=actor, record=lead, changes=changes)
        _apply_moves(lead, moves, actor=actor)
    return lead


def _apply_moves(lead, moves, *, actor):
    if moves.get("stage") not in (None, "", lead.stage):
        change_stage(lead, moves["stage"], actor=actor,
                     override_reason=moves.get("override_reason"))
    elif moves.get("override_reason"):
        message = _l("This detail belongs to a move: send it with the stage or status it "
                     "explains.")
        raise ValidationError(message, fields={"override_reason": [message]})
    details = ("lost_reason", "closed_on", "lost_to")
    if moves.get("status") not in (None, "", lead.status) or any(k in moves for k in details):
        # A new status, or corrected details of the current one (the others kept).
        status = moves.get("status") or lead.status
        same = status == lead.status
        change_status(lead, status, actor=actor,
                      reason=moves.get("lost_reason", lead.lost_reason if same else None),
                      closed_on=moves.get("closed_on", lead.closed_on if same else None),
                      lost_to=moves.get("lost_to", lead.lost_to if same else None))


def change_stage(lead, stage, *, actor, override_reason=None):
    """Move `lead` to `stage` by the rules of rules.py.

    Forward moves need every requirement up to the new stage; a manager may override them with
    a reason (kept in the history and the audit log). Only a manager who is not the lead's
    owner confirms `won` (a second person). Leaving `won` reopens the status.
    """
    check = Checker({"stage": stage, "override_reason": override_reason})
    stage = check.choice("stage", Stage, required=True)
    override_reason = check.text("override_reason", max_length=2000, multiline=True)
    check.done()
    _refuse_if_deleted(lead)
    target = Stage(stage)
    current = lead.stage_enum
    if target == current:
        return lead
    if not lead.status_enum.is_open and lead.status != Status.WON.value:
        message = _l("This lead has the status “%(status)s”. Reopen it before you move it.",
                     status=lead.status_enum.label)
        raise StageRefused(message, fields={"stage": [message]})
    if target == Stage.WON:
        _check_win_confirmation(lead, actor)
    elif current == Stage.WON and not has_permission(actor, Permission.CONFIRM_WINS):
        message = _l("Only a manager reopens a won lead.")
        raise StageRefused(message, fields={"stage": [message]})
    overridden = False
    if target.position > current.position:
        missing = rules.missing_for(lead, target)
        if missing:
            if override_reason and has_permission(actor, Permission.OVERRIDE_STAGE_RULES):
                overridden = True
            else:
                raise _refusal(target, missing, override_reason, actor)
    old_stage, old_status = lead.stage, lead.status
    lead.stage = target.value
    lead.stage_entered_at = utcnow()
    if target == Stage.WON:
        lead.status = Status.WON.value
        lead.won_confirmed_by_id, lead.won_confirmed_at = _id(actor), utcnow()
    elif old_status == Status.WON.value:
        lead.status = Status.ONGOING.value  # going back out of won reopens the lead
        lead.won_confirmed_by_id = lead.won_confirmed_at = None
    _history(lead, old_stage, old_status, actor, override_reason if overridden else None)
    changes = {"stage": (old_stage, lead.stage)}
    if lead.status != old_status:
        changes["status"] = (old_status, lead.status)
    if overridden:
        changes["override_reason"] = (None, override_reason)
    record("lead.stage_override" if overridden else "lead.stage", actor=actor, record=lead,
           changes=changes)
    return lead


def change_status(lead, status, *, actor, reason=None, closed_on=None, lost_to=None):
    """Set the status. Lost and abandoned need a reason and a date; lost also where the
    investment went. `won` comes only with the stage `won`."""
    check = Checker({"status": status, "lost_reason": reason, "closed_on": closed_on,
                     "lost_to": lost_to})
    status = check.choice("status", Status, required=True)
    reason = check.text("lost_reason", max_length=LONG_TEXT_MAX, multiline=True)
    closed_on = check.day("closed_on")
    if closed_on is not None and not (MIN_DATE <= closed_on <= local_today()):
        check.fail("closed_on", _l("Give a date that is not in the future."))
    lost_to = check.text("lost_to", max_length=200)
    if status == Status.WON.value and lead.stage != Stage.WON.value:
        check.fail("status", _l("A lead is won by moving it to the stage “won”."))
    if lead.stage == Stage.WON.value and status != Status.WON.value:
        check.fail("status", _l("A won lead keeps the status “won”; move it back to another "
                                "stage first."))
    if status in (Status.LOST.value, Status.ABANDONED.value):
        if not reason:
            check.fail("lost_reason", _l("Give the reason."))
        if not closed_on:
            check.fail("closed_on", _l("Give the date."))
        if status == Status.LOST.value and not lost_to:
            check.fail("lost_to", _l("Say where the investment went (country or region)."))
    check.done()
    _refuse_if_deleted(lead)
    closing = status in (Status.LOST.value, Status.ABANDONED.value)
    before = {"status": lead.status, "lost_reason": lead.lost_reason,
              "closed_on": lead.closed_on, "lost_to": lead.lost_to}
    after = {"status": status, "lost_reason": reason if closing else None,
             "closed_on": closed_on if closing else None,
             "lost_to": lost_to if status == Status.LOST.value else None}
    changes = diff(before, after)
    if not changes:
        return lead
    for field, value in after.items():
        setattr(lead, field, value)
    if "status" in changes:
        _history(lead, lead.stage, before["status"], actor, None)
    else:  # only the details of a lost or abandoned lead were corrected
        touch(lead)
    record("lead.status", actor=actor, record=lead, changes=changes)
    return lead


def delete_lead(lead, *, actor):
    if not lead.is_deleted:
        soft_delete(lead)
        record("lead.delete", actor=actor, record=lead)
    return lead


def restore_lead(lead, *, actor):
    if lead.is_deleted:
        restore(lead)
        record("lead.restore", actor=actor, record=lead)
    return lead


PLANNED_FIGURES = ("capex_eur", "capex_is_estimate", "capex_unknown", "new_jobs",
                   "new_jobs_is_estimate", "new_jobs_unknown", "safeguarded_jobs",
                   "safeguarded_jobs_is_estimate", "safeguarded_jobs_unknown")


def _check_won_figures(lead, clean, actor):
    """A confirmed win's planned figures are what the manager confirmed: only a manager
    changes them (the realised figures stay open to the team)."""
    if lead.stage != Stage.WON.value or has_permission(actor, Permission.CONFIRM_WINS):
        return
    changed = [f for f in PLANNED_FIGURES if clean[f] != getattr(lead, f)]
    if changed:
        message = _l("The figures of a won lead are changed only by a manager.")
        raise ValidationError(message, fields={f: [message] for f in changed})


def _keep_requirements(lead, before, actor):
    """An edit must not take away what the lead's stage requires (a manager's override aside:
    what was missing before may stay missing)."""
    old = Lead(**{k: v for k, v in before.items() if k in SIMPLE_FIELDS})
    already_missing = {r.field for r in rules.missing_for(old, lead.stage)}
    newly_missing = [r for r in rules.missing_for(lead, lead.stage)
                     if r.field not in already_missing]
    if newly_missing:
        names = ", ".join(str(r.label) for r in newly_missing)
        message = _l("The stage “%(stage)s” needs these, so they cannot be removed: "
                     "%(missing)s.", stage=lead.stage_enum.label, missing=names)
        raise StageRefused(message, fields={r.field: [message] for r in newly_missing},
                           missing=newly_missing)


def _refuse_if_deleted(lead):
    if lead.is_deleted:
        raise NotFoundError(_l("There is no such lead."))


def _check_win_confirmation(lead, actor):
    """Four eyes: a lead reaches `won` only from `decision`, confirmed by a manager who is
    neither its project manager nor the one who moved it into `decision`."""
    if not has_permission(actor, Permission.CONFIRM_WINS):
        message = _l("Only a manager confirms that a lead is won.")
        raise StageRefused(message, fields={"stage": [message]})
    if lead.stage != Stage.DECISION.value:
        message = _l("A lead is confirmed as won from the stage “%(stage)s”.",
                     stage=Stage.DECISION.label)
        raise StageRefused(message, fields={"stage": [message]})
    into_decision = [c for c in lead.stage_changes if c.to_stage == Stage.DECISION.value
                     and c.from_stage != Stage.DECISION.value]
    claimant = into_decision[-1].changed_by_id if into_decision else None
    if _id(actor) in (lead.owner_id, claimant):
        message = _l("A second person confirms the win: a manager who is not the lead's "
                     "project manager.")
        raise StageRefused(message, fields={"stage": [message]})


def _refusal(target, missing, override_reason, actor):
    names = ", ".join(str(r.label) for r in missing)
    message = _l("For the stage “%(stage)s” this lead still needs: %(missing)s.",
                 stage=target.label, missing=names)
    fields = {r.field: [_l("Needed for the stage “%(stage)s”.", stage=target.label)]
              for r in missing}
    if override_reason and not has_permission(actor, Permission.OVERRIDE_STAGE_RULES):
        fields["override_reason"] = [_l("Only a manager may override the requirements.")]
    return StageRefused(message, fields=fields, missing=missing)


def _history(lead, old_stage, old_status, actor, override_reason):
    touch(lead)
    lead.stage_changes.append(StageChange(
        from_stage=old_stage, to_stage=lead.stage, from_status=old_status,
        to_status=lead.status, changed_by_id=_id(actor), override_reason=override_reason))
    db.session.flush()


def _id(actor):
    return getattr(actor, "id", None)


def _clean(data, *, lead):
    """The lead's fields, cleaned; references checked only where they change."""
    check = Checker(data)
    clean = {
        "title": check.text("title", max_length=300, required=True),
        "organisation_id": check.record_id("organisation_id", required=True),
        "contact_ids": check.record_ids("contact_ids"),
        "owner_id": check.record_id("owner_id"),
        "team_member_ids": check.record_ids("team_member_ids"),
        "sector": check.choice("sector", Sector),
        "country": check.country("country"),
        "investment_type": check.choice("investment_type", InvestmentType),
        "business_activity": check.choice("business_activity", BusinessActivity),
        "is_new_investor": (None if data.get("is_new_investor") in (None, "")
                            else check.boolean("is_new_investor")),
        "description": check.text("description", max_length=LONG_TEXT_MAX, multiline=True),
        "likelihood": check.choice("likelihood", Likelihood),
        "expected_decision_on": check.day("expected_decision_on"),
        "candidate_sites": check.text("candidate_sites", max_length=LONG_TEXT_MAX,
                                      multiline=True),
        "competing_locations": check.text("competing_locations", max_length=LONG_TEXT_MAX,
                                          multiline=True),
        "chosen_site": check.text("chosen_site", max_length=300),
        "decided_on": check.day("decided_on"),
        "source": check.choice("source", LeadSource),
        "source_event_id": check.record_id("source_event_id"),
        "referral_partner_id": check.record_id("referral_partner_id"),
        "is_confidential": check.boolean("is_confidential"),
    }
    for field in ("capex_eur", "realised_capex_eur"):
        clean[field] = check.amount(field, units=True)
    for field in ("new_jobs", "safeguarded_jobs", "realised_new_jobs",
                  "realised_safeguarded_jobs"):
        clean[field] = check.amount(field, maximum=10**7)
    for figure in ("capex", "new_jobs", "safeguarded_jobs"):
        for flag in ("is_estimate", "unknown"):
            clean[f"{figure}_{flag}"] = check.boolean(f"{figure}_{flag}")
    _check_references(check, clean, lead)
    check.done()
    return clean


def _check_references(check, clean, lead):
    before = snapshot(lead) if lead is not None else {}

    def changed(field):
        return clean[field] is not None and clean[field] != before.get(field) \
            and field not in check.errors

    if changed("organisation_id") and not _exists(Organisation, clean["organisation_id"]):
        check.fail("organisation_id", _l("Choose an existing organisation."))
    if changed("referral_partner_id") and not _exists(Organisation, clean["referral_partner_id"]):
        check.fail("referral_partner_id", _l("Choose an existing organisation."))
    if changed("source_event_id") and not _exists(Event, clean["source_event_id"]):
        check.fail("source_event_id", _l("Choose an existing event."))
    if changed("owner_id"):
        owner = db.session.get(User, clean["owner_id"])
        if owner is None or not owner.is_active:
            check.fail("owner_id", _l("Choose an active team member."))
    added = set(clean["team_member_ids"]) - set(before.get("team_member_ids", []))
    if added and "team_member_ids" not in check.errors and db.session.scalar(
            sa.select(sa.func.count(User.id)).where(User.id.in_(added),
                                                    User.is_active.is_(True))) != len(added):
        check.fail("team_member_ids", _l("Choose team members of the agency."))
    added = set(clean["contact_ids"]) - set(before.get("contact_ids", []))
    if added and "contact_ids" not in check.errors and db.session.scalar(
            sa.select(sa.func.count(Contact.id)).where(
                Contact.id.in_(added), Contact.deleted_at.is_(None),
                Contact.erased_at.is_(None))) != len(added):
        # An erased person (Art. 17) stays erased: they are not put on a lead again.
        check.fail("contact_ids", _l("Choose existing contacts."))


def _exists(model, record_id):
    record_ = db.session.get(model, record_id)
    return record_ is not None and not record_.is_deleted


def _apply(lead, clean):
    for field in SIMPLE_FIELDS:
        setattr(lead, field, clean[field])
    if sorted(c.id for c in lead.contacts) != sorted(clean["contact_ids"]):
        lead.contacts = list(db.session.scalars(
            sa.select(Contact).where(Contact.id.in_(clean["contact_ids"]))))
    if sorted(u.id for u in lead.team_members) != sorted(clean["team_member_ids"]):
        lead.team_members = list(db.session.scalars(
            sa.select(User).where(User.id.in_(clean["team_member_ids"]))))
    if lead.organisation is None or lead.organisation.id != lead.organisation_id:
        lead.organisation = db.session.get(Organisation, lead.organisation_id)
    lead.derive_keys()


def prefill(*, organisation=None, contact=None, event=None):
    """Form values for a lead started from an organisation, a contact or an event."""
    values = {}
    if contact is not None:
        values["contact_ids"] = [contact.id]
        current = contact.current_affiliations
        if current:
            organisation = organisation or current[0].organisation
    if organisation is not None:
        values.update(organisation_id=organisation.id, country=organisation.country,
                      title=str(_l("Investment project %(name)s", name=organisation.name)))
        if organisation.sectors:
            values["sector"] = organisation.sectors[0]
    if event is not None:
        values.update(source_event_id=event.id,
                      source=LeadSource.TRIP.value if event.is_trip else LeadSource.EVENT.value)
    return values
