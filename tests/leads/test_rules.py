"""The stage rules: what each stage asks for, read from rules.py as the product does."""

import pytest

from crm.leads import rules
from crm.leads.models import Lead, Stage


def blank():
    return Lead(title="x", organisation_id=1, capex_unknown=False, new_jobs_unknown=False,
                safeguarded_jobs_unknown=False)


@pytest.mark.parametrize(("stage", "fields"), [
    (Stage.LEAD, set()),
    (Stage.PROSPECT, {"sector", "investment_type", "capex_eur", "new_jobs"}),
    (Stage.ACTIVE, {"sector", "investment_type", "capex_eur", "new_jobs", "owner_id",
                    "likelihood"}),
    (Stage.DECISION, {"sector", "investment_type", "capex_eur", "new_jobs", "owner_id",
                      "likelihood", "chosen_site", "safeguarded_jobs", "decided_on"}),
    (Stage.WON, {"sector", "investment_type", "capex_eur", "new_jobs", "owner_id", "likelihood",
                 "chosen_site", "safeguarded_jobs", "decided_on"}),
])
def test_each_stage_asks_for_its_fields_and_those_before(stage, fields):
    assert {r.field for r in rules.missing_for(blank(), stage)} == fields


def test_client_cannot_say_counts_for_prospect_but_not_for_decision():
    lead = blank()
    lead.sector, lead.investment_type = "automotive", "expansion"
    lead.capex_unknown = lead.new_jobs_unknown = True
    assert rules.missing_for(lead, Stage.PROSPECT) == []
    assert {"capex_eur", "new_jobs"} <= {r.field for r in rules.missing_for(lead, Stage.DECISION)}


def test_zero_safeguarded_jobs_is_an_answer():
    lead = blank()
    lead.safeguarded_jobs = 0
    assert "safeguarded_jobs" not in {r.field for r in rules.missing_for(lead, Stage.DECISION)}


def test_next_stage_and_weights():
    assert [rules.next_stage(s) for s in Stage] == [Stage.PROSPECT, Stage.ACTIVE, Stage.DECISION,
                                                    Stage.WON, None]
    lead = blank()
    lead.capex_eur, lead.likelihood = 10_000_000, "high"
    assert rules.weighted_capex(lead) == 8_000_000
