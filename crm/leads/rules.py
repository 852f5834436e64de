"""What a lead must have to enter each stage: the rules as data, read by the forms, the board,
the API and the tests (after Data Hub's `validate.py`).

Requirements add up: entering `active` needs what `prospect` needs too.
"""

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from crm.leads.models import Likelihood, Stage

# How likely a lead is to be won, as the weight of its CAPEX in the weighted pipeline.
LIKELIHOOD_WEIGHTS = {Likelihood.LOW.value: 0.2, Likelihood.MEDIUM.value: 0.5,
                      Likelihood.HIGH.value: 0.8}


@dataclass(frozen=True)
class Requirement:
    """One thing a stage asks for: the field a form highlights and a test to pass."""

    field: str
    label: object  # a lazy translatable text
    is_met: Callable


def _has(field):
    return lambda lead: getattr(lead, field) not in (None, "")


def _figure_or_unknown(field):
    """A planned figure, or the mark that the client cannot say it."""
    return lambda lead: getattr(lead, field) is not None or getattr(lead, f"{field}_unknown")


def _capex_or_unknown(lead):
    return lead.capex_eur is not None or lead.capex_unknown


REQUIREMENTS = {
    Stage.LEAD: (),
    Stage.PROSPECT: (
        Requirement("sector", _l("Sector"), _has("sector")),
        Requirement("investment_type", _l("Investment type"), _has("investment_type")),
        Requirement("capex_eur", _l("CAPEX (an estimate, or “client cannot say”)"),
                    _capex_or_unknown),
        Requirement("new_jobs", _l("New jobs (an estimate, or “client cannot say”)"),
                    _figure_or_unknown("new_jobs")),
    ),
    Stage.ACTIVE: (
        Requirement("owner_id", _l("Project manager"), _has("owner_id")),
        Requirement("likelihood", _l("Likelihood"), _has("likelihood")),
    ),
    Stage.DECISION: (
        Requirement("chosen_site", _l("Site chosen"), _has("chosen_site")),
        Requirement("capex_eur", _l("CAPEX"), _has("capex_eur")),
        Requirement("new_jobs", _l("New jobs"), _has("new_jobs")),
        Requirement("safeguarded_jobs", _l("Safeguarded jobs"), _has("safeguarded_jobs")),
        Requirement("decided_on", _l("Decision date"), _has("decided_on")),
    ),
    Stage.WON: (),
}


def requirements_up_to(stage):
    """Every requirement of the stages up to and including `stage`, each field once (the
    stricter, later requirement wins)."""
    found = {}
    for step in Stage:
        for requirement in REQUIREMENTS[step]:
            found[requirement.field] = requirement
        if step == stage:
            break
    return list(found.values())


def missing_for(lead, stage):
    """The requirements `lead` does not meet for entering `stage`."""
    return [r for r in requirements_up_to(Stage(stage)) if not r.is_met(lead)]


def next_stage(stage):
    """The stage after `stage`, or None after `won`."""
    stages = list(Stage)
    position = stages.index(Stage(stage))
    return stages[position + 1] if position + 1 < len(stages) else None


def weighted_capex(lead):
    """CAPEX weighted by likelihood; a won lead counts in full."""
    if lead.capex_eur is None:
        return 0
    if lead.stage == Stage.WON.value:
        return lead.capex_eur
    return round(lead.capex_eur * LIKELIHOOD_WEIGHTS.get(lead.likelihood, 0))
