"""API tokens a user manages on their account page: shown once, read-only or not, revoked by
their owner or an admin; every change through a token is in the audit log under its name."""

import re

import sqlalchemy as sa

from crm.audit.models import AuditEntry
from crm.auth.models import ApiToken
from crm.extensions import db
from crm.organisations.models import Organisation
from tests.api.conftest import Api
from tests.factories import make_organisation, make_token, make_user


def new_token_on_page(html):
    match = re.search(r'data-testid="new-token">([^<]+)<', html)
    return match and match[1]


def test_a_user_makes_a_token_sees_it_once_and_it_works(app, login):
    user, client = login("member")
    response = client.post("/account/tokens", data={"name": "Newsletter-Abgleich"})
    assert response.status_code == 200
    plaintext = new_token_on_page(response.get_data(as_text=True))
    assert plaintext and plaintext.startswith("lotse_")
    page = client.get("/account").get_data(as_text=True)
    assert "Newsletter-Abgleich" in page and plaintext not in page
    assert plaintext[:12] in page  # its beginning tells tokens apart
    api = app.test_client()
    answer = api.get("/api/v1/me", headers={"Authorization": f"Bearer {plaintext}"})
    assert answer.status_code == 200 and answer.json["id"] == user.id
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == user.id))
    assert not token.is_read_only and token.last_used_at is not None


def test_a_token_needs_a_name_named_beside_the_field(login):
    _, client = login("member")
    for name in ("", "   ", "x" * 101):
        response = client.post("/account/tokens", data={"name": name})
        assert response.status_code == 422, name
        html = response.get_data(as_text=True)
        assert 'id="name-error"' in html and new_token_on_page(html) is None
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0


def test_a_read_only_token_reads_but_changes_nothing(app, spec, login):
    user, client = login("member")
    organisation = make_organisation(name="Jenoptik AG")
    html = client.post("/account/tokens", data={"name": "Bericht", "read_only": "y"}
                       ).get_data(as_text=True)
    api = Api(app.test_client(), new_token_on_page(html), spec, user)
    assert api.get(f"/api/v1/organisations/{organisation.id}").status_code == 200
    before = db.session.scalar(sa.select(sa.func.count(AuditEntry.id)))
    for method, url, body in (
            ("POST", "/api/v1/organisations", {"name": "Neu GmbH", "kind": "investor"}),
            ("PATCH", f"/api/v1/organisations/{organisation.id}",
             {"name": "Umbenannt", "version": organisation.version}),
            ("DELETE", f"/api/v1/organisations/{organisation.id}", None)):
        response = api.open(method, url, body)
        assert response.status_code == 403, (method, response.json)
        assert response.json["error"]["code"] == "read_only_token"
    db.session.expire_all()
    assert db.session.get(Organisation, organisation.id).name == "Jenoptik AG"
    assert db.session.get(Organisation, organisation.id).deleted_at is None
    assert db.session.scalar(sa.select(sa.func.count(Organisation.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == before
    row = client.get("/account").get_data(as_text=True).split("Bericht", 1)[1].split("</tr>")[0]
    assert "nur lesen" in row


def test_a_change_through_a_token_is_logged_with_its_name(app, spec, login):
    _, admin_client = login("admin")
    user = make_user(role="member", name="Anna Schulz")
    _, plaintext = make_token(user, name="Partnerplattform")
    api = Api(app.test_client(), plaintext, spec, user)
    created = api.post("/api/v1/organisations", {"name": "Hyundai Mobis", "kind": "investor"})
    assert created.status_code == 201
    entry = db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.action == "organisation.create"))
    assert entry.actor_id == user.id and entry.via.startswith("Partnerplattform (lotse_")
    log = admin_client.get("/admin/audit").get_data(as_text=True)
    row = log.split("Hyundai Mobis", 1)[0].rsplit("<tr>", 1)[1]
    assert "über das API-Token Partnerplattform (lotse_" in row
    # A change on a page afterwards is not marked as coming through the token.
    organisation = make_organisation(actor=user, name="Ohne Token")
    later = db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.record_id == organisation.id, AuditEntry.action == "organisation.create"))
    assert later.via is None


def test_a_user_revokes_their_own_token_and_only_their_own(app, login):
    user, client = login("member")
    token, plaintext = make_token(user, name="Skript")
    other_token, _ = make_token(make_user(), name="Fremd")
    assert client.post(f"/account/tokens/{other_token.id}/revoke").status_code == 404
    response = client.post(f"/account/tokens/{token.id}/revoke")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).is_revoked
    assert not db.session.get(ApiToken, other_token.id).is_revoked
    answer = app.test_client().get("/api/v1/me",
                                   headers={"Authorization": f"Bearer {plaintext}"})
    assert answer.status_code == 401
    assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "token.revoke"))


def test_the_admin_page_shows_which_tokens_may_only_read(login):
    _, client = login("admin")
    user = make_user(name="Ben Kim")
    make_token(user, name="Lesezugriff", read_only=True)
    html = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    row = html.split("Lesezugriff", 1)[1].split("</tr>", 1)[0]
    assert "nur lesen" in row
