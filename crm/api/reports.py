"""The results report in the API: the leads won in a period and in the one before, in total
and split by investment type, origin, country and sector, as on the reports page (and counted
by the same query, `crm.reports.queries.results`).

Managers and admins get everyone's figures, members their own (the leads they own or work on),
as on the page; confidential leads count only for those who may see them.
"""

from datetime import date

from flask import jsonify
from flask_babel import lazy_gettext as _l

from crm.activities.views import today
from crm.api.resources import arguments, refuse_bad_arguments
from crm.auth.permissions import Permission, current_actor, has_permission, require
from crm.core.validation import Checker
from crm.organisations.models import Sector
from crm.reports import queries

RESULTS_ARGUMENTS = {"from", "to", "sector", "country", "owner", "source_event",
                     "referral_partner"}
SPLITS = ("by_investment_type", "by_origin", "by_country", "by_sector")
RESULT_FIGURES = ("count", "capex_eur", "new_jobs", "safeguarded_jobs", "realised_count",
                  "planned_of_realised_capex_eur", "planned_of_realised_new_jobs",
                  "planned_of_realised_safeguarded_jobs", "realised_capex_eur",
                  "realised_new_jobs", "realised_safeguarded_jobs")


@require(Permission.VIEW_RECORDS)
def results_response():
    user = current_actor()
    results = queries.results(user, _read_filters(user))
    return jsonify({
        "period": _period_json(results.period),
        "previous_period": _period_json(results.previous_period),
        "total": _figures_pair(results.total),
        **{name: [{"key": split.key, **_figures_pair(split)} for split in getattr(results, name)]
           for name in SPLITS},
    })


def _read_filters(user):
    """The report's filters from the query arguments: the period (this calendar year unless
    given; `from` alone runs to the end of its year, `to` alone from the start of its year)
    and the lead filters; a wrong one is a 400 naming it."""
    check = Checker(arguments(RESULTS_ARGUMENTS))
    now = today()
    start, end = check.day("from"), check.day("to")
    # Without either: this calendar year; with one: the rest or the start of its year.
    year = (start or end or now).year
    start, end = start or date(year, 1, 1), end or date(year, 12, 31)
    if not check.errors:
        if end < start:
            check.fail("to", _l("The end of the period lies before its start."))
        elif start.year < queries.FIRST_YEAR or end.year > queries.LAST_YEAR:
            check.fail("to" if end.year > queries.LAST_YEAR else "from",
                       _l("Give a date between %(first)s and %(last)s.",
                          first=queries.FIRST_YEAR, last=queries.LAST_YEAR))
    filters = queries.Filters(
        period=queries.Period(start, end), today=now,
        sector=check.choice("sector", [sector.value for sector in Sector]),
        country=check.country("country"), owner_id=check.record_id("owner"),
        event_id=check.record_id("source_event"),
        partner_id=check.record_id("referral_partner"),
        own_user_id=None if has_permission(user, Permission.VIEW_REPORTS) else user.id)
    refuse_bad_arguments(check)
    return filters


def _period_json(period):
    return {"from": period.start.isoformat(), "to": period.end.isoformat()}


def _figures_pair(split):
    return {"current": _figures_json(split.current), "previous": _figures_json(split.previous)}


def _figures_json(figures):
    return {name: getattr(figures, name) for name in RESULT_FIGURES}
