"""A member tries another member's confidential lead, and the activities on it, through every
URL rule that takes their id (pages, edit forms, actions, timeline, API) with every method the
rule answers: always 404, never a word of the lead, and the rows unchanged. A member's extra
form fields (role, owner, timestamps, ids) are ignored."""

import json
import re

import pytest
import sqlalchemy as sa
from flask import url_for

from crm.activities import services as activity_services
from crm.activities.models import Activity
from crm.auth.models import User
from crm.extensions import db
from crm.leads.models import Lead
from tests.conftest import log_in
from tests.factories import make_lead, make_token, make_user

SECRET = "Geheimes Projekt Nordhausen"
NOTE = "Vertrauliche Notiz zum Standort"
FORM = {"title": "übernommen", "stage": "prospect", "status": "dormant", "body": "x",
        "reason": "x", "closed_on": "2026-01-01", "version": "1", "kind": "note",
        "team_member_ids": "", "is_confidential": "", "owner_id": ""}


def rows(model, record_id):
    """The record's columns as stored, to compare before and after."""
    row = db.session.execute(sa.select(model.__table__).where(
        model.__table__.c.id == record_id)).one()
    return dict(row._mapping)


@pytest.fixture
def secret(app):
    owner = make_user(name="Anna Albers")
    lead = make_lead(actor=owner, title=SECRET, is_confidential=True)
    note = activity_services.create_activity(body=NOTE, actor=owner, lead=lead,
                                             due_on="2030-01-01")
    db.session.commit()
    return lead, note


def rules_with(app, argument):
    return [rule for rule in app.url_map.iter_rules() if argument in rule.arguments]


def test_every_route_of_a_confidential_lead_is_404_for_another_member(app, secret):
    lead, note = secret
    member = make_user(name="Ben Brandt")
    client = log_in(app.test_client(), member)
    _, token = make_token(member)
    before = (rows(Lead, lead.id), rows(Activity, note.id))
    values = {"lead_id": lead.id, "activity_id": note.id, "kind": "lead", "record_id": lead.id}
    with app.test_request_context():
        targets = [(url_for(rule.endpoint, **{k: values[k] for k in rule.arguments}),
                    sorted(rule.methods - {"HEAD", "OPTIONS"}))
                   for argument in ("lead_id", "activity_id", "record_id")
                   for rule in rules_with(app, argument)
                   if set(rule.arguments) <= set(values)]
    assert len(targets) >= 14, targets
    tried = []

    def send(method, url):
        if url.startswith("/api/"):
            return client.open(url, method=method, data=json.dumps(FORM),
                               content_type="application/json",
                               headers={"Authorization": f"Bearer {token}"})
        return client.open(url, method=method, data=FORM)

    for url, methods in targets:
        for method in methods:
            response = send(method, url)
            tried.append((method, url, response.status_code))
            if response.status_code == 403:
                # A role the member lacks (restore is for admins) is refused before any record
                # is looked at: the same answer as for an id that does not exist.
                missing = re.sub(rf"/({lead.id}|{note.id})(?=/|$)", "/999999", url)
                assert send(method, missing).status_code == 403, (method, url)
            else:
                assert response.status_code == 404, (method, url, response.status_code)
            text = response.get_data(as_text=True)
            assert SECRET not in text and NOTE not in text, (method, url)
    # Adding a note to it, by form or API, is refused the same way.
    response = client.post("/activities", data={"subject_type": "lead", "subject_id": lead.id,
                                                "kind": "note", "body": "Ich war hier"})
    assert response.status_code == 404
    response = client.post("/api/v1/activities", json={"lead_id": lead.id, "body": "Ich"},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code in (404, 422)
    assert SECRET not in response.get_data(as_text=True)
    db.session.expire_all()
    assert (rows(Lead, lead.id), rows(Activity, note.id)) == before, tried
    assert db.session.scalar(sa.select(sa.func.count(Activity.id)).where(
        Activity.lead_id == lead.id)) == 1


EXTRA = {"role": "admin", "is_active": "0", "created_by_id": "1", "owner_id": "",
         "deleted_at": "2020-01-01", "erased_at": "2020-01-01", "version": "99", "id": "4242",
         "created_at": "2000-01-01T00:00", "last_activity_at": "2000-01-01T00:00"}


@pytest.mark.parametrize(("path", "data", "model"), [
    ("/contacts/new", {"last_name": "Extra", "legal_basis": "public_task"}, "contacts"),
    ("/organisations/new", {"name": "Extra GmbH", "kind": "investor"}, "organisations"),
    ("/events/new", {"name": "Extra-Abend", "kind": "business_breakfast",
                     "starts_on": "2025-05-20"}, "events"),
])
def test_extra_fields_posted_by_a_member_are_ignored(login, path, data, model):
    member, client = login("member")
    response = client.post(path, data={**EXTRA, **data})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    record_id = int(response.headers["Location"].rsplit("/", 1)[1])
    row = db.session.execute(sa.text(f"SELECT * FROM {model} WHERE id = :id"),
                             {"id": record_id}).mappings().one()
    assert record_id != 4242
    assert row["deleted_at"] is None and row["version"] == 1
    assert row["created_by_id"] == member.id
    if "erased_at" in row:
        assert row["erased_at"] is None
    db.session.expire_all()
    assert db.session.get(User, member.id).role == "member"


def test_a_member_cannot_make_themselves_admin_through_their_account(login):
    member, client = login("member")
    for path, data in (("/language", {"language": "en"}),
                       ("/account/password", {"current_password": "x", "new_password": "y",
                                              "confirm_password": "y"})):
        client.post(path, data={**data, "role": "admin", "is_active": "1", "email": "a@b.c"})
    db.session.expire_all()
    user = db.session.get(User, member.id)
    assert (user.role, user.email) == ("member", member.email)
