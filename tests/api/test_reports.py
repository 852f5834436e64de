"""The results report in the API (`GET /api/v1/reports/results`): the figures of the reports
page's results section, for the same period and filters, seen as the page shows them to the
token's user; wrong filters are a 400 that names them."""

from datetime import UTC, date, datetime

import pytest

from crm.extensions import db
from tests.api.conftest import make_api
from tests.factories import make_event, make_lead, make_organisation


def won(when, owner=None, **fields):
    """A lead won (the win confirmed) at `when`, with the given columns."""
    lead = make_lead(commit=False, actor=owner)
    for name, value in {"stage": "won", "status": "won", "won_confirmed_at": when,
                        **fields}.items():
        setattr(lead, name, value)
    db.session.flush()
    return lead


def at(year, month, day):
    return datetime(year, month, day, 10, tzinfo=UTC)


@pytest.fixture
def manager(app, spec):
    return make_api(app, spec, role="manager")


def test_the_results_of_a_period_and_the_one_before_split_four_ways(manager):
    won(at(2026, 3, 1), country="DE", sector="automotive", investment_type="greenfield",
        capex_eur=10_000_000, new_jobs=100)
    won(at(2026, 6, 1), country="KR", sector="optics_photonics", investment_type="expansion",
        capex_eur=20_000_000, new_jobs=50, safeguarded_jobs=30, realised_capex_eur=18_000_000,
        realised_new_jobs=55)
    won(at(2025, 5, 1), country="KR", sector="automotive", investment_type="expansion",
        capex_eur=7_000_000, new_jobs=10)
    db.session.commit()

    report = manager.get("/api/v1/reports/results?from=2026-01-01&to=2026-12-31").json

    assert report["period"] == {"from": "2026-01-01", "to": "2026-12-31"}
    assert report["previous_period"] == {"from": "2025-01-01", "to": "2025-12-31"}
    current, previous = report["total"]["current"], report["total"]["previous"]
    assert (current["count"], current["capex_eur"], current["new_jobs"],
            current["safeguarded_jobs"]) == (2, 30_000_000, 150, 30)
    assert (current["realised_count"], current["realised_capex_eur"],
            current["realised_new_jobs"], current["planned_of_realised_capex_eur"]) == (
        1, 18_000_000, 55, 20_000_000)
    assert (previous["count"], previous["capex_eur"]) == (1, 7_000_000)
    assert [(s["key"], s["current"]["count"], s["previous"]["count"])
            for s in report["by_sector"]] == [("optics_photonics", 1, 0), ("automotive", 1, 1)]
    assert {s["key"]: s["current"]["capex_eur"] for s in report["by_origin"]} == {
        "foreign": 20_000_000, "domestic": 10_000_000}
    assert {s["key"] for s in report["by_country"]} == {"DE", "KR"}
    assert {s["key"]: s["previous"]["count"] for s in report["by_investment_type"]} == {
        "expansion": 1, "greenfield": 0}


def test_without_a_period_the_calendar_year_and_filters_narrow_it(manager):
    trip = make_event(name="Delegationsreise Seoul")
    partner = make_organisation(name="OptoNet e.V.", kind="partner")
    this_year = date.today().year
    won(datetime(this_year, 1, 2, 12, tzinfo=UTC), sector="automotive", capex_eur=1_000,
        source_event_id=trip.id)
    won(datetime(this_year, 1, 3, 12, tzinfo=UTC), sector="sensors", capex_eur=2_000,
        referral_partner_id=partner.id)
    db.session.commit()

    report = manager.get("/api/v1/reports/results").json
    assert report["period"] == {"from": f"{this_year}-01-01", "to": f"{this_year}-12-31"}
    assert report["total"]["current"]["capex_eur"] == 3_000
    # One end given: the period runs to the end, or from the start, of its year.
    assert manager.get(f"/api/v1/reports/results?from={this_year}-01-03").json["period"] == {
        "from": f"{this_year}-01-03", "to": f"{this_year}-12-31"}
    assert manager.get(f"/api/v1/reports/results?to={this_year}-01-02").json["period"] == {
        "from": f"{this_year}-01-01", "to": f"{this_year}-01-02"}
    assert manager.get("/api/v1/reports/results?from=2030-02-01").json["period"] == {
        "from": "2030-02-01", "to": "2030-12-31"}
    for query, capex in ((f"source_event={trip.id}", 1_000),
                         (f"referral_partner={partner.id}", 2_000),
                         ("sector=sensors", 2_000), ("sector=optics_photonics", 0),
                         (f"owner={manager.user.id}", 0)):
        body = manager.get(f"/api/v1/reports/results?{query}").json
        assert body["total"]["current"]["capex_eur"] == capex, query


def test_members_get_the_figures_of_their_own_leads_and_managers_everyones(app, spec, manager):
    member = make_api(app, spec, role="member")
    other = make_api(app, spec, role="member")
    won(at(2026, 2, 1), owner=member.user, capex_eur=5_000)
    won(at(2026, 2, 2), owner=other.user, capex_eur=7_000, is_confidential=True)
    db.session.commit()
    url = "/api/v1/reports/results?from=2026-01-01&to=2026-12-31"
    assert member.get(url).json["total"]["current"]["capex_eur"] == 5_000
    assert other.get(url).json["total"]["current"]["capex_eur"] == 7_000
    assert manager.get(url).json["total"]["current"]["capex_eur"] == 12_000


@pytest.mark.parametrize(("query", "field"), [
    ("from=gestern", "from"),
    ("to=2026-02-30", "to"),
    ("from=2026-05-01&to=2026-04-30", "to"),
    ("from=1800-01-01", "from"),
    ("to=2999-12-31", "to"),
    ("sector=raumfahrt", "sector"),
    ("country=XX", "country"),
    ("owner=0", "owner"),
    ("source_event=abc", "source_event"),
    ("referral_partner=99999999999", "referral_partner"),
    ("stage=won", "stage"),
    ("sector=sensors&sector=automotive", "sector"),
])
def test_a_wrong_filter_is_a_400_that_names_it(manager, query, field):
    response = manager.get(f"/api/v1/reports/results?{query}")
    assert response.status_code == 400
    assert field in response.json["error"]["fields"]


def test_the_results_need_a_token(client):
    assert client.get("/api/v1/reports/results").status_code == 401
