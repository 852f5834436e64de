"""Manager reports: results, pipeline, conversion, losses, trips and events, partners, team.

Managers and admins see everyone's figures; members see only their own (the leads they own
or work on, their follow-ups). Filters come from the query string and are checked: a date
that is not one, a period ending before it starts or an unknown value is named beside its
field with a 400, never a 500. Figures are kept for `REPORTS_CACHE_SECONDS` per filter set
and user, so that a busy dashboard does not rescan the whole history on every view.
"""

import threading
import time
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import format_date, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from crm.activities.views import today
from crm.audit.services import note_export
from crm.auth.models import User
from crm.auth.permissions import Permission, has_permission, require
from crm.core import exports
from crm.core.countries import COUNTRY_CODES, country_choices
from crm.core.routing import MAX_ID
from crm.events.models import Event
from crm.events.queries import recent_events
from crm.extensions import db
from crm.organisations.models import Organisation, Sector
from crm.reports import queries, sheets

bp = Blueprint("reports", __name__)

SECTIONS = ("results", "pipeline", "conversion", "losses", "events", "partners", "team")
SECTION_TITLES = {"results": _l("Results"), "pipeline": _l("Pipeline"),
                  "conversion": _l("Conversion and speed"), "losses": _l("Lost and abandoned"),
                  "events": _l("Trips and events"), "partners": _l("Partners"),
                  "team": _l("Team follow-up")}
EXPORT_STEMS = {"results": "ergebnisse", "pipeline": "pipeline", "conversion": "konversion",
                "losses": "verluste", "events": "reisen-und-veranstaltungen",
                "partners": "partner", "team": "nachfassen", "all": "berichte"}
MAX_CACHED = 256
# Rows of one table on the page (a year of a busy agency's events fits); the downloads have all.
PAGE_ROWS = 100


# -- Filters ---------------------------------------------------------------------------------

def parse_filters(args, user):
    """(Filters, values as given, errors by field) from the query string."""
    errors, given = {}, {name: args.get(name, "").strip() for name in
                         ("from", "to", "sector", "country", "owner", "event", "partner",
                          "stalled")}
    now = today()
    everyone = has_permission(user, Permission.VIEW_REPORTS)
    if not everyone:
        given["owner"] = ""  # members see their own figures; the page offers no owner filter

    def day(name, default):
        if not given[name]:
            return default
        try:
            return date.fromisoformat(given[name])
        except ValueError:
            errors[name] = _l("Give a date such as %(example)s.",
                              example=format_date(now, "medium"))
            return default

    start = day("from", date(now.year, 1, 1))
    end = day("to", date(now.year, 12, 31))
    if "from" not in errors and "to" not in errors and end < start:
        errors["to"] = _l("The end of the period lies before its start.")
    elif start.year < queries.FIRST_YEAR or end.year > queries.LAST_YEAR:
        errors["to" if end.year > queries.LAST_YEAR else "from"] = _l(
            "Give a date between %(first)s and %(last)s.",
            first=queries.FIRST_YEAR, last=queries.LAST_YEAR)

    def choice(name, allowed):
        if given[name] and given[name] not in allowed:
            errors[name] = _l("Choose one of the list.")
            return None
        return given[name] or None

    def whole(value, most):
        """`value` as a number from 1 to `most`, else None (long digit runs never reach int)."""
        if value.isascii() and value.isdigit() and len(value) <= len(str(most)):
            number = int(value)
            return number if 1 <= number <= most else None
        return None

    def record(name, exists):
        if not given[name]:
            return None
        number = whole(given[name], MAX_ID)
        if number is None or not exists(number):
            errors[name] = _l("Choose one of the list.")
            return None
        return number

    sector = choice("sector", {s.value for s in Sector})
    country = choice("country", set(COUNTRY_CODES))
    owner_id = record("owner", lambda i: db.session.get(User, i) is not None)
    event_id = record("event", lambda i: db.session.scalar(
        sa.select(Event.id).where(Event.id == i, Event.deleted_at.is_(None))) is not None)
    partner_id = record("partner", lambda i: db.session.scalar(
        sa.select(Organisation.id).where(Organisation.id == i,
                                         Organisation.deleted_at.is_(None))) is not None)
    stalled = 30
    if given["stalled"]:
        stalled = whole(given["stalled"], queries.MAX_STALLED_DAYS)
        if stalled is None:
            stalled = 30
            errors["stalled"] = _l("Give a number of days from 1 to %(most)s.",
                                   most=queries.MAX_STALLED_DAYS)
    if errors:
        start, end = date(now.year, 1, 1), date(now.year, 12, 31)
    filters = queries.Filters(
        period=queries.Period(start, end), today=now, sector=sector, country=country,
        owner_id=owner_id, event_id=event_id, partner_id=partner_id,
        own_user_id=None if everyone else user.id, stalled_days=stalled)
    return filters, given, errors


def period_choices(now):
    """Quick choices: this year, last year, and the quarters of this year and the last."""
    choices = []
    for number in (now.year, now.year - 1):
        period = queries.year(number)
        choices.append((str(number), period))
        for which in range(1, 5):
            quarter = queries.quarter(number, which)
            if quarter.start <= now:
                choices.append((f"Q{which} {number}", quarter))
    return choices


def filter_options():
    return {
        "owners": db.session.execute(sa.select(User.id, User.name).where(User.is_active.is_(True))
                                     .order_by(User.name_sort)).all(),
        "sectors": Sector.choices(), "countries": country_choices(),
        "events": [(e.id, f"{e.name} ({format_date(e.starts_on)})")
                   for e in db.session.scalars(recent_events())],
        "partners": db.session.execute(
            sa.select(Organisation.id, Organisation.name)
            .where(Organisation.kind.in_(("partner", "chamber", "public_body")),
                   Organisation.deleted_at.is_(None))
            .order_by(Organisation.name_sort).limit(200)).all(),
    }


# -- Figures, kept for a short while ---------------------------------------------------------

_cache = {}
_cache_lock = threading.Lock()


def cached(section, user, filters, compute):
    """`compute()`, or what it gave for the same section, user and filters less than
    `REPORTS_CACHE_SECONDS` ago (in this worker)."""
    seconds = current_app.config.get("REPORTS_CACHE_SECONDS", 60)
    if not seconds:
        return compute()
    key = (section, user.id, user.role, filters.key(), str(get_locale()))
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None and now - hit[0] < seconds:
        return hit[1]
    value = compute()
    with _cache_lock:
        if len(_cache) >= MAX_CACHED:
            for old in sorted(_cache, key=lambda k: _cache[k][0])[:MAX_CACHED // 4]:
                _cache.pop(old, None)
        _cache[key] = (now, value)
    return value


@dataclass
class Section:
    """The tables of one report section (and, for the pipeline, a link under them), with their
    HTML once a page has shown them: kept together in the cache, so that a page served from
    it neither counts nor renders again (the tables are most of a report page's time)."""

    tables: list
    extra_link: str | None = None
    _html: Markup | None = field(default=None, repr=False)

    def html(self):
        """The tables as HTML, rendered by the first page that shows them."""
        if self._html is None:
            self._html = Markup(render_template("reports/_tables.html", section=self,
                                                page_rows=PAGE_ROWS))
        return self._html


def build(section, user, filters):
    """The tables of one section as a `Section`."""
    return Section(*_tables(section, user, filters))


def _tables(section, user, filters):
    links = sheets.Links(filters)
    if section == "results":
        return sheets.results_tables(queries.results(user, filters), links), None
    if section == "pipeline":
        tables, ahead = sheets.pipeline_tables(queries.pipeline(user, filters), links,
                                               filters.today)
        return tables, ahead
    if section == "conversion":
        return sheets.conversion_tables(queries.conversion(user, filters), links, filters), None
    if section == "losses":
        return sheets.losses_tables(queries.losses(user, filters), links), None
    if section == "events":
        return [sheets.events_table(queries.trips_and_events(user, filters), links)], None
    if section == "partners":
        return [sheets.partners_table(queries.partners(user, filters), links)], None
    return [sheets.team_table(queries.team(user, filters), filters.today)], None


# Which table each section draws, and from which columns: (table, value column, format).
CHARTS = {
    "results": ("results_by_sector", (("capex_eur", _l("Won CAPEX"), "eur"),)),
    "pipeline": ("pipeline_by_stage", (("capex_eur", _l("CAPEX"), "eur"),
                                       ("weighted_capex", _l("CAPEX weighted by likelihood"),
                                        "eur"))),
    "conversion": ("conversion", (("reached", _l("Leads that reached it"), "count"),)),
    "losses": ("losses_by_stage", (("count", _l("Leads"), "count"),)),
    "partners": ("partners", (("brought", _l("Leads in the period"), "count"),
                              ("wins", _l("Wins in the period"), "count"))),
}
CHART_BARS = 12


def chart_of(section, tables):
    """A bar chart of a section's main table (its first rows), as data for reports.js; the
    same numbers are in the table under it."""
    if section not in CHARTS:
        return None
    key, series = CHARTS[section]
    table = next((t for t in tables if t.key == key), None)
    if table is None or not table.rows:
        return None
    rows = [row for row in table.rows[:CHART_BARS]]
    return {"type": "bar", "labels": [str(row["key"]) for row in rows],
            "datasets": [{"label": str(name), "format": kind,
                          "data": [row.get(column) or 0 for row in rows]}
                         for column, name, kind in series],
            "horizontal": section in ("results", "partners"), "stacked": False,
            "title": str(table.title)}


def section_tables(section, user, filters):
    return cached(section, user, filters, lambda: build(section, user, filters))


# -- Pages -----------------------------------------------------------------------------------

@bp.route("/reports")
@require(Permission.VIEW_RECORDS)
def index():
    filters, given, errors = parse_filters(request.args, current_user)
    sections = {} if errors else {name: section_tables(name, current_user, filters)
                                  for name in SECTIONS}
    return render_template(
        "reports/index.html", filters=filters, given=given, errors=errors, sections=sections,
        charts={name: chart_of(name, section.tables) for name, section in sections.items()},
        titles=SECTION_TITLES, periods=period_choices(filters.today), page_rows=PAGE_ROWS,
        everyone=has_permission(current_user, Permission.VIEW_REPORTS),
        **filter_options()), 400 if errors else 200


@bp.route("/reports/print")
@require(Permission.VIEW_RECORDS)
def print_results():
    """The results of the period on one A4 page, for the ministry."""
    filters, _given, errors = parse_filters(request.args, current_user)
    if errors:
        return index()
    tables = section_tables("results", current_user, filters).tables
    return render_template("reports/print.html", filters=filters, tables=tables,
                           everyone=has_permission(current_user, Permission.VIEW_REPORTS))


@bp.route("/reports/<section>.<extension>")
@require(Permission.VIEW_RECORDS)
def export(section, extension):
    """One section (or `all`) as CSV for German Excel or as XLSX."""
    if (section not in SECTIONS and section != "all") or extension not in ("csv", "xlsx"):
        abort(404)
    filters, _given, errors = parse_filters(request.args, current_user)
    if errors:
        return index()
    names = SECTIONS if section == "all" else (section,)
    tables = [table for name in names
              for table in section_tables(name, current_user, filters).tables]
    stem = f"{EXPORT_STEMS[section]}-{filters.period.start.isoformat()}-" \
           f"{filters.period.end.isoformat()}"
    note_export(f"{SECTION_TITLES.get(section, _l('Reports'))} ({stem})", actor=current_user,
                form=extension, filters=request.query_string.decode()[:1000] or None)
    db.session.commit()
    if extension == "csv":
        return exports.csv_response(tables, stem)
    return exports.xlsx_response(tables, stem, str(SECTION_TITLES.get(section,
                                                                      _l("Reports"))))
