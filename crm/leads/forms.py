"""The lead form, the stage move and the status change."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField

from crm.core.countries import country_choices
from crm.core.forms import Choice, Choices, EditForm, RecordForm
from crm.leads.models import BusinessActivity, InvestmentType, LeadSource, Likelihood, Stage, Status
from crm.organisations.models import Sector
from crm.organisations.queries import reference_to_id


def _optional(choices):
    return lambda: [("", "–")] + choices()


class LeadForm(RecordForm):
    title = StringField(_l("Title"), render_kw={"maxlength": 300},
                        description=_l("What the project is, e.g. “Fertigung Sensorik-Module”."))
    organisation_id = StringField(_l("Investor"),
                                  description=_l("Type to find the company."))
    contact_ids = Choices(_l("Contacts"), choices=[], coerce=str)
    owner_id = Choice(_l("Project manager"), choices=[])
    team_member_ids = Choices(_l("Team members"), choices=[], coerce=str)
    sector = Choice(_l("Sector"), choices=_optional(Sector.choices))
    country = Choice(_l("Country of origin"), choices=_optional(country_choices))
    investment_type = Choice(_l("Investment type"), choices=_optional(InvestmentType.choices))
    business_activity = Choice(_l("Business activity"),
                               choices=_optional(BusinessActivity.choices))
    is_new_investor = Choice(_l("New or existing investor"), choices=lambda: [
        ("", "–"), ("true", str(_l("New investor"))), ("false", str(_l("Existing investor")))])
    capex_eur = StringField(_l("Planned CAPEX (EUR)"), render_kw={"inputmode": "decimal"},
                            description=_l("E.g. 12.500.000 or 12,5 Mio."))
    capex_is_estimate = BooleanField(_l("Estimate"))
    capex_unknown = BooleanField(_l("Client cannot say"))
    new_jobs = StringField(_l("New jobs"), render_kw={"inputmode": "numeric"})
    new_jobs_is_estimate = BooleanField(_l("Estimate"))
    new_jobs_unknown = BooleanField(_l("Client cannot say"))
    safeguarded_jobs = StringField(_l("Safeguarded jobs"), render_kw={"inputmode": "numeric"})
    safeguarded_jobs_is_estimate = BooleanField(_l("Estimate"))
    safeguarded_jobs_unknown = BooleanField(_l("Client cannot say"))
    realised_capex_eur = StringField(_l("Realised CAPEX (EUR)"),
                                     render_kw={"inputmode": "decimal"})
    realised_new_jobs = StringField(_l("Realised new jobs"), render_kw={"inputmode": "numeric"})
    realised_safeguarded_jobs = StringField(_l("Realised safeguarded jobs"),
                                            render_kw={"inputmode": "numeric"})
    likelihood = Choice(_l("Likelihood"), choices=_optional(Likelihood.choices))
    expected_decision_on = StringField(_l("Expected decision"), render_kw={"type": "date"})
    candidate_sites = TextAreaField(_l("Candidate sites"), render_kw={"rows": 2})
    competing_locations = TextAreaField(_l("Competing locations"), render_kw={"rows": 2})
    chosen_site = StringField(_l("Site chosen"), render_kw={"maxlength": 300})
    decided_on = StringField(_l("Decision date"), render_kw={"type": "date"})
    source = Choice(_l("Source"), choices=_optional(LeadSource.choices))
    source_event_id = Choice(_l("Source event or trip"), choices=[])
    referral_partner_id = StringField(_l("Referring partner"),
                                      description=_l("The partner organisation that brought it."))
    is_confidential = BooleanField(
        _l("Confidential"),
        description=_l("Only the project manager, the team, managers and admins see it."))
    description = TextAreaField(_l("Description"), render_kw={"rows": 4})

    def service_data(self):
        data = super().service_data()
        data["organisation_id"] = reference_to_id(data["organisation_id"])
        data["referral_partner_id"] = reference_to_id(data["referral_partner_id"])
        for field in ("owner_id", "source_event_id"):
            data[field] = data[field] or None
        return data


class LeadEditForm(EditForm, LeadForm):
    pass


class StageForm(FlaskForm):
    stage = Choice(_l("Stage"), choices=Stage.choices)
    override_reason = TextAreaField(
        _l("Reason for moving without the requirements (managers only)"), render_kw={"rows": 2})


class StatusForm(FlaskForm):
    status = Choice(_l("Status"), choices=lambda: [c for c in Status.choices()
                                                   if c[0] != Status.WON.value])
    lost_reason = TextAreaField(_l("Reason"), render_kw={"rows": 2},
                                description=_l("For lost and abandoned leads."))
    closed_on = StringField(_l("Date"), render_kw={"type": "date"})
    lost_to = StringField(_l("Went to (country or region)"),
                          description=_l("For lost leads: where the investment went."))
