"""Saved views: a list's filters and sorting under a name, in the navigation, one's own only."""

import re
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from crm.audit.models import AuditEntry
from crm.extensions import db
from crm.saved_views import services
from crm.saved_views.models import SavedView
from tests.auth.test_views import field_error
from tests.factories import make_contact


def save(client, list_name, query, name):
    page = client.get(f"/saved-views/new?list={list_name}&query={quote(query)}")
    assert page.status_code == 200
    hidden = re.search(r'id="query" name="query" type="hidden" value="([^"]*)"',
                       page.get_data(as_text=True)).group(1)
    return client.post("/saved-views/new", data={"list_name": list_name, "query":
                                                 hidden.replace("&amp;", "&"), "name": name})


def test_a_filtered_list_is_saved_found_in_the_navigation_and_shows_the_same_rows(login):
    user, client = login("member")
    make_contact(first_name="Jürgen", last_name="Müller", tags=["Seoul"])
    make_contact(first_name="Anna", last_name="Boston", tags=["Boston"])
    page = client.get("/contacts?tag=Seoul&sort=-name&page=1").get_data(as_text=True)
    assert "/saved-views/new?list=contacts&amp;query=tag%3DSeoul%26sort%3D-name%26page%3D1" in page

    response = save(client, "contacts", "tag=Seoul&sort=-name&page=1", "Seoul-Reise 2025")
    assert response.status_code == 302
    assert response.headers["Location"] == "/contacts?tag=Seoul&sort=-name", "no paging"
    home = client.get("/").get_data(as_text=True)
    assert 'href="/contacts?tag=Seoul&amp;sort=-name">Seoul-Reise 2025' in home
    listed = client.get("/contacts?tag=Seoul&sort=-name").get_data(as_text=True)
    assert "Jürgen Müller" in listed and "Anna Boston" not in listed
    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "view.create")).one()
    assert entry.actor_id == user.id and entry.changes["name"] == [None, "Seoul-Reise 2025"]


@pytest.mark.parametrize("list_name", ["organisations", "events", "leads", "pipeline",
                                       "follow-ups"])
def test_every_list_can_be_saved(login, list_name):
    _, client = login("manager")
    response = save(client, list_name, "sort=name", f"Meine {list_name}")
    assert response.status_code == 302
    assert client.get(response.headers["Location"]).status_code == 200


@pytest.mark.parametrize(("name", "message"), [
    ("", "Dieses Feld wird benötigt."),
    ("   ", "Dieses Feld wird benötigt."),
    ("x" * 101, "Bitte höchstens 100 Zeichen."),
    ("Zeile\neins", "unzulässige Zeichen"),
])
def test_a_bad_name_is_refused_beside_the_field(login, name, message):
    _, client = login("member")
    response = save(client, "contacts", "tag=Seoul", name)
    assert response.status_code == 422
    assert message in field_error(response.get_data(as_text=True), "name")
    assert db.session.scalar(sa.select(sa.func.count(SavedView.id))) == 0


def test_an_empty_filter_is_kept_for_it_means_records_without_one(login):
    _, client = login("manager")
    response = save(client, "leads", "status=lost&lost_reason=&page=3", "Verloren ohne Grund")
    assert response.headers["Location"] == "/leads?status=lost&lost_reason="


def test_a_name_is_unique_per_list_and_user(login):
    _, client = login("member")
    assert save(client, "contacts", "tag=Seoul", "Seoul").status_code == 302
    again = save(client, "contacts", "tag=Boston", "Seoul")
    assert again.status_code == 422
    assert "schon" in field_error(again.get_data(as_text=True), "name")
    assert save(client, "leads", "", "Seoul").status_code == 302, "another list may"
    _, other = login("member")
    assert save(other, "contacts", "tag=Seoul", "Seoul").status_code == 302, "another user too"


def test_filters_too_long_to_keep_are_refused_with_a_message(login):
    _, client = login("member")
    response = client.post("/saved-views/new", data={
        "list_name": "contacts", "query": "q=" + "x" * 1200, "name": "Zu lang"})
    assert response.status_code == 422
    assert "zu lang" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(SavedView.id))) == 0


@pytest.mark.parametrize("list_name", ["", "reports", "admin", "../contacts"])
def test_an_unknown_list_is_a_404(login, list_name):
    _, client = login("member")
    assert client.get(f"/saved-views/new?list={quote(list_name)}").status_code == 404
    response = client.post("/saved-views/new", data={"list_name": list_name, "name": "x"})
    assert response.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(SavedView.id))) == 0


def test_one_removes_ones_own_views_and_never_sees_anyone_elses(login):
    _, owner_client = login("member")
    save(owner_client, "contacts", "tag=Seoul", "Nur meine")
    view_id = db.session.scalars(sa.select(SavedView.id)).one()
    _, intruder = login("admin")
    assert "Nur meine" not in intruder.get("/").get_data(as_text=True)
    assert "Nur meine" not in intruder.get("/saved-views").get_data(as_text=True)
    assert '">Nur meine <span' in owner_client.get("/").get_data(as_text=True)
    assert intruder.post(f"/saved-views/{view_id}/delete").status_code == 404
    assert db.session.get(SavedView, view_id) is not None
    assert owner_client.post(f"/saved-views/{view_id}/delete").status_code == 302
    db.session.expire_all()
    assert db.session.get(SavedView, view_id) is None
    assert '">Nur meine</a>' not in owner_client.get("/saved-views").get_data(as_text=True)


def test_a_page_asks_once_for_the_views_however_many_there_are(login, count_queries):
    user, client = login("member")
    counts = []
    for total in (1, 15):
        while db.session.scalar(sa.select(sa.func.count(SavedView.id))) < total:
            number = db.session.scalar(sa.select(sa.func.count(SavedView.id)))
            services.save_view(user, {"list_name": "contacts", "name": f"Ansicht {number}",
                                      "query": f"tag={number}"}, actor=user)
            db.session.commit()
        with count_queries() as statements:
            html = client.get("/saved-views").get_data(as_text=True)
        assert html.count("/contacts?tag=") >= 2 * total
        counts.append(len(statements))
    assert counts[0] == counts[1]
