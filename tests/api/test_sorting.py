"""Sorted lists in the API: `sort` takes the list page's keys (`-` for descending), names sort
the German way, the cursor pages through the same order without a record twice or missing,
a cursor of another order or an unknown key is a 400 that names it, and a sorted page costs
as many queries whatever its size."""

from datetime import date

import pytest

from crm.extensions import db
from tests.api.conftest import make_api
from tests.factories import (
    make_activity,
    make_contact,
    make_event,
    make_lead,
    make_organisation,
)


def names(items):
    return [item["last_name"] for item in items]


def test_contacts_by_name_the_german_way_over_several_pages(api):
    for last_name in ("Zander", "Özdemir", "Oberle", "Müller", "Mahler", "Ossietzky", "김"):
        make_contact(last_name=last_name)
    items, pages = api.all_pages("/api/v1/contacts?sort=name", limit=2)
    # Ö with O (Oberle, Ossietzky, Özdemir: ö as o, then by the letters after), Hangul last.
    assert names(items) == ["Mahler", "Müller", "Oberle", "Ossietzky", "Özdemir", "Zander", "김"]
    assert pages == 4
    backwards, _ = api.all_pages("/api/v1/contacts?sort=-name", limit=3)
    assert names(backwards) == names(items)[::-1]


def test_ties_go_by_id_and_every_lead_comes_exactly_once(api):
    leads = [make_lead(capex_eur=capex, commit=False) for capex in
             (5_000_000, 1_000_000, 5_000_000, 9_000_000, 5_000_000, 1_000_000)]
    db.session.commit()
    items, _ = api.all_pages("/api/v1/leads?sort=-capex_eur", limit=2)
    by_capex = sorted(leads, key=lambda lead: (-lead.capex_eur, -lead.id))
    assert [item["id"] for item in items] == [lead.id for lead in by_capex]
    ascending, _ = api.all_pages("/api/v1/leads?sort=capex_eur", limit=4)
    assert [item["id"] for item in ascending] == [
        lead.id for lead in sorted(leads, key=lambda lead: (lead.capex_eur, lead.id))]


def test_every_resource_sorts_by_each_of_its_keys_both_ways(api, spec):
    """For each key the descending list is the ascending one backwards (ties go by id the
    same way; a `sort` left unapplied would give the list by id both times), and some key of
    each resource gives another order than by id."""
    for n, (name, city, capex) in enumerate((("Zeiss Örtlich GmbH", "Jena", 3_000),
                                             ("Alpha Optik AG", "Suhl", 9_000),
                                             ("Mahle Werk KG", "Erfurt", 1_000))):
        organisation = make_organisation(name=name, city=city, country=("KR", "DE", "US")[n],
                                         kind=("investor", "partner", "other")[n])
        contact = make_contact(last_name=name.split()[0], email=f"{city.lower()}@example.org",
                               position=city, organisation=organisation)
        make_lead(organisation=organisation, title=name, capex_eur=capex, new_jobs=capex // 10,
                  expected_decision_on=date(2027, 1 + n * 5 % 12, 1))
        make_event(name=f"{city} Meeting", starts_on=date(2026, 3 + n * 4 % 12, 1),
                   kind=("trip", "business_breakfast", "webinar")[n],
                   country=("KR", "DE", "US")[n])
        make_activity(actor=api.user, subject=contact, body=f"Anruf {n}",
                      due_on=date(2026, 12, 10 - n * 3))
    for path, item in spec.document["paths"].items():
        sort = next((p for p in item.get("get", {}).get("parameters", [])
                     if p.get("name") == "sort"), None)
        if sort is None:
            continue
        by_id = [i["id"] for i in api.get(f"/api/v1{path}?limit=200").json["items"]]
        assert len(by_id) >= 3, path
        orders = set()
        for key in (k for k in sort["schema"]["enum"] if not k.startswith("-")):
            ascending = [i["id"] for i in api.get(f"/api/v1{path}?sort={key}&limit=200"
                                                  ).json["items"]]
            descending = [i["id"] for i in api.get(f"/api/v1{path}?sort=-{key}&limit=200"
                                                   ).json["items"]]
            assert sorted(ascending) == sorted(by_id), (path, key)
            assert descending == ascending[::-1], (path, key)
            orders.add(tuple(ascending))
        assert orders - {tuple(by_id)}, path


@pytest.mark.parametrize(("query", "field"), [
    ("sort=geburtstag", "sort"),
    ("sort=--name", "sort"),
    ("sort=name&sort=email", "sort"),
])
def test_an_unknown_sort_is_a_400_that_names_it(api, query, field):
    response = api.get(f"/api/v1/contacts?{query}")
    assert response.status_code == 400 and field in response.json["error"]["fields"]


def test_a_cursor_serves_only_the_order_it_was_made_in(api):
    for last_name in ("Abel", "Berg", "Cramer"):
        make_contact(last_name=last_name)
    by_name = api.get("/api/v1/contacts?sort=name&limit=1").json["next_cursor"]
    by_id = api.get("/api/v1/contacts?limit=1").json["next_cursor"]
    for url in (f"/api/v1/contacts?cursor={by_name}",
                f"/api/v1/contacts?sort=-name&cursor={by_name}",
                f"/api/v1/contacts?sort=name&cursor={by_id}"):
        response = api.get(url)
        assert response.status_code == 400, url
        assert "cursor" in response.json["error"]["fields"]
    assert api.get(f"/api/v1/contacts?sort=name&cursor={by_name}&limit=1"
                   ).json["items"][0]["last_name"] == "Berg"


def test_a_sorted_page_runs_the_same_queries_for_10_and_60_records(app, spec, count_queries):
    api = make_api(app, spec)
    api.get("/api/v1/me")  # the token's first use is recorded once; not part of the count
    counts = []
    for total in (10, 60):
        for n in range(total - len(api.get("/api/v1/contacts?limit=200").json["items"])):
            make_contact(last_name=f"Person {n}", commit=False)
        db.session.commit()
        cursor = api.get("/api/v1/contacts?sort=-email&limit=5").json["next_cursor"]
        with count_queries() as statements:
            body = api.get(f"/api/v1/contacts?sort=-email&limit=5&cursor={cursor}").json
        assert len(body["items"]) == 5
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 4, counts
