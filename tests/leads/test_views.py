import re

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.leads import services
from crm.leads.models import Lead
from tests.auth.test_views import field_error
from tests.conftest import log_in
from tests.factories import PROSPECT_FIELDS, make_event, make_lead, make_organisation, make_user


def board_totals(html):
    """{stage: (count, capex text)} read from the board's column heads."""
    totals = {}
    for stage, head in re.findall(r'id="column-(\w+)">.*?</h2>(.*?)</dl>', html, re.DOTALL):
        count = re.search(r'data-total="count">([^<]*)<', head).group(1)
        capex = re.search(r'data-total="capex">([^<]*)<', head).group(1)
        totals[stage] = (count, capex.replace("\xa0", " "))
    return totals


@pytest.fixture
def pipeline(app):
    """Leads of two members, one of them confidential, at different stages."""
    anna, ben = make_user(name="Anna"), make_user(name="Ben")
    hyundai = make_organisation(name="Hyundai Motor Company")
    make_lead(actor=anna, organisation=hyundai, title="Offenes Projekt", capex_eur=10_000_000)
    make_lead(actor=anna, organisation=hyundai, title="Geheimes Projekt", capex_eur=5_000_000,
              is_confidential=True)
    prospect = make_lead(actor=ben, title="Batteriewerk", **PROSPECT_FIELDS)
    services.change_stage(prospect, "prospect", actor=ben)
    db.session.commit()
    return anna, ben, hyundai


def test_the_board_totals_are_the_sums_of_the_leads_each_person_may_see(app, pipeline):
    anna, ben, _ = pipeline
    manager = make_user(role="manager")
    expected = {"anna": ("2", "15.000.000 €"), "ben": ("1", "10.000.000 €"),
                "manager": ("2", "15.000.000 €")}
    for name, user in (("anna", anna), ("ben", ben), ("manager", manager)):
        html = log_in(app.test_client(), user).get("/pipeline").get_data(as_text=True)
        totals = board_totals(html)
        assert totals["lead"] == expected[name], name
        assert totals["prospect"] == ("1", "25.000.000 €")
        assert ("Geheimes Projekt" in html) == (name != "ben")


def test_a_member_never_meets_someone_elses_confidential_lead(app, pipeline):
    _anna, ben, hyundai = pipeline
    secret = db.session.scalars(sa.select(Lead).where(Lead.is_confidential)).one()
    client = log_in(app.test_client(), ben)
    for url in ("/leads", "/pipeline", f"/organisations/{hyundai.id}", "/leads/typeahead?q=geheim",
                "/leads?closed=1", "/leads?q=geheim"):
        assert "Geheimes Projekt" not in client.get(url).get_data(as_text=True), url
    for url in (f"/leads/{secret.id}", f"/leads/{secret.id}/edit"):
        assert client.get(url).status_code == 404
    for url, data in ((f"/leads/{secret.id}/stage", {"stage": "prospect"}),
                      (f"/leads/{secret.id}/status", {"status": "dormant"}),
                      (f"/leads/{secret.id}/delete", {}),
                      (f"/leads/{secret.id}/edit", {"title": "x"})):
        response = client.post(url, data=data)
        assert response.status_code == 404, url
        assert "Geheimes Projekt" not in response.get_data(as_text=True)
    db.session.expire_all()
    assert (secret.status, secret.deleted_at, secret.title) == ("ongoing", None, "Geheimes Projekt")


def test_a_team_member_sees_the_confidential_lead(app, pipeline):
    anna, ben, _ = pipeline
    secret = db.session.scalars(sa.select(Lead).where(Lead.is_confidential)).one()
    services.update_lead(secret, {"team_member_ids": [ben.id]}, actor=anna)
    db.session.commit()
    client = log_in(app.test_client(), ben)
    assert client.get(f"/leads/{secret.id}").status_code == 200
    assert "Geheimes Projekt" in client.get("/pipeline").get_data(as_text=True)


def test_a_member_may_see_but_not_change_someone_elses_open_lead(app, pipeline):
    _anna, ben, _ = pipeline
    lead = db.session.scalars(sa.select(Lead).where(Lead.title == "Offenes Projekt")).one()
    client = log_in(app.test_client(), ben)
    assert client.get(f"/leads/{lead.id}").status_code == 200
    assert client.post(f"/leads/{lead.id}/stage", data={"stage": "prospect"}).status_code == 403


def test_a_refused_move_on_the_lead_page_says_what_is_missing(login):
    user, client = login()
    lead = make_lead(actor=user, sector="automotive")
    response = client.post(f"/leads/{lead.id}/stage", data={"stage": "prospect"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "fehlt diesem Lead noch: Investitionsart, CAPEX" in html
    db.session.expire_all()
    assert lead.stage == "lead"


def test_a_move_from_the_board_answers_json(login):
    user, client = login()
    lead = make_lead(actor=user, **PROSPECT_FIELDS)
    refused = client.post(f"/leads/{lead.id}/stage", data={"stage": "active"},
                          headers={"Accept": "application/json"})
    assert refused.status_code == 422
    assert refused.json["error"]["code"] == "stage_refused"
    assert refused.json["error"]["message"] == (
        "Für die Phase „Aktiv“ fehlt diesem Lead noch: Wahrscheinlichkeit.")
    moved = client.post(f"/leads/{lead.id}/stage", data={"stage": "prospect"},
                        headers={"Accept": "application/json"})
    assert moved.status_code == 200 and moved.json["stage"] == "prospect"
    missing = client.post("/leads/99999/stage", data={"stage": "prospect"},
                          headers={"Accept": "application/json"})
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"


def test_the_card_form_moves_without_javascript_and_returns_to_the_board(login):
    user, client = login()
    lead = make_lead(actor=user, **PROSPECT_FIELDS)
    response = client.post(f"/leads/{lead.id}/stage?next=/pipeline%3Fmine%3D1",
                           data={"stage": "prospect"})
    assert response.headers["Location"] == "/pipeline?mine=1"


def test_create_a_lead_from_an_event_with_german_numbers(login):
    user, client = login()
    kia = make_organisation(name="Kia Corporation", country="KR", sectors=["automotive"])
    breakfast = make_event(name="Business Breakfast Seoul")
    html = client.get(f"/leads/new?organisation={kia.id}&event={breakfast.id}").get_data(
        as_text=True)
    assert "Investitionsprojekt Kia Corporation" in html
    assert f'<option selected value="{breakfast.id}">' in html
    response = client.post("/leads/new", data={
        "title": "Werk für Batteriemodule", "organisation_id": str(kia.id),
        "owner_id": str(user.id), "capex_eur": "12,5 Mio.", "new_jobs": "1.200",
        "source": "event", "source_event_id": str(breakfast.id)})
    assert response.status_code == 302
    lead = db.session.scalars(sa.select(Lead)).one()
    assert (lead.capex_eur, lead.new_jobs, lead.source_event_id) == (12_500_000, 1200,
                                                                     breakfast.id)
    html = client.get(f"/events/{breakfast.id}").get_data(as_text=True)
    assert "Werk für Batteriemodule" in html


@pytest.mark.parametrize(("data", "field"), [
    ({"capex_eur": "-12.000"}, "capex_eur"), ({"new_jobs": "viele"}, "new_jobs"),
    ({"likelihood": "maybe"}, "likelihood"), ({"expected_decision_on": "bald"},
                                              "expected_decision_on"),
    ({"organisation_id": "Gibt es nicht GmbH"}, "organisation_id"), ({"title": ""}, "title"),
])
def test_bad_input_on_the_page_shows_beside_the_field(login, data, field):
    _user, client = login()
    kia = make_organisation(name="Kia")
    response = client.post("/leads/new", data={"title": "Projekt", "organisation_id": str(kia.id),
                                               **data})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field)
    assert db.session.scalar(sa.select(sa.func.count(Lead.id))) == 0


def test_the_list_filters_and_totals(login, pipeline):
    _, client = login("manager")
    html = client.get("/leads?stage=prospect").get_data(as_text=True)
    assert "Batteriewerk" in html and "Offenes Projekt" not in html
    assert "25.000.000\xa0€" in html  # the total of what is filtered
    lost = make_lead(title="Verlorenes Projekt")
    services.change_status(lost, "lost", actor=None, reason="Kosten", closed_on="2026-01-10",
                           lost_to="Polen")
    db.session.commit()
    assert "Verlorenes Projekt" not in client.get("/leads").get_data(as_text=True)
    assert "Verlorenes Projekt" in client.get("/leads?closed=1").get_data(as_text=True)
    assert "Verlorenes Projekt" in client.get("/leads?status=lost").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/leads?per_page=200", "/pipeline"])
def test_list_and_board_run_the_same_queries_for_10_and_200_leads(login, count_queries, path):
    user, client = login()
    organisation = make_organisation()
    counts = []
    for total in (10, 200):
        while db.session.scalar(sa.select(sa.func.count(Lead.id))) < total:
            make_lead(commit=False, actor=user, organisation=organisation,
                      team_member_ids=[user.id], capex_eur=1000)
        db.session.commit()
        with count_queries() as statements:
            assert client.get(path).status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_the_lead_page_shows_what_is_missing_and_the_history(login):
    user, client = login()
    lead = make_lead(actor=user, **PROSPECT_FIELDS)
    services.change_stage(lead, "prospect", actor=user)
    db.session.commit()
    html = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert "Für die Phase „Aktiv“ fehlt diesem Lead noch:" in html and "Wahrscheinlichkeit" in html
    assert "Phase: Lead → Interessent" in html
    assert "Tage je Phase" in html


def test_notes_on_a_confidential_lead_stay_out_of_other_timelines(app, pipeline):
    anna, ben, hyundai = pipeline
    from crm.activities import services as activity_services

    secret = db.session.scalars(sa.select(Lead).where(Lead.is_confidential)).one()
    activity_services.create_activity(body="Vertraulich: Standortwahl Erfurt", actor=anna,
                                      lead=secret, organisation=hyundai)
    db.session.commit()
    url = f"/organisations/{hyundai.id}"
    assert "Standortwahl Erfurt" not in log_in(app.test_client(), ben).get(url).get_data(
        as_text=True)
    assert "Standortwahl Erfurt" in log_in(app.test_client(), anna).get(url).get_data(
        as_text=True)


def test_the_lead_page_runs_the_same_queries_for_a_short_and_a_long_history(login,
                                                                          count_queries):
    user, client = login("manager")
    lead = make_lead(actor=user, **PROSPECT_FIELDS)
    counts = []
    for moves in (1, 15):
        while len(lead.stage_changes) < 2 * moves:
            mover = make_user(role="manager")
            services.change_stage(lead, "prospect", actor=mover)
            services.change_stage(lead, "lead", actor=mover)
        db.session.commit()
        with count_queries() as statements:
            assert client.get(f"/leads/{lead.id}").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]
