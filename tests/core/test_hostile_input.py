"""Whatever a visitor sends, the app answers with a page or a clear 4xx, never a 5xx.

Every GET route gets hostile query arguments, every form hostile field values, every id in a
path an impossible number; on SQLite and PostgreSQL.
"""

from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask import url_for

from crm.audit.models import AuditEntry
from crm.extensions import db
from tests.auth.test_permissions import make_targets
from tests.conftest import log_in
from tests.factories import make_token, make_user

HOSTILE_VALUES = [
    "99999999999999999999999",
    "-1",
    "0",
    "1e309",
    "%00",
    "%C3%28",  # invalid UTF-8
    "%ED%A0%80",  # a lone surrogate, UTF-8 encoded
    "%E2%80%AEevil",  # right-to-left override
    "x" * 10_000,
    "%F0%9F%A6%94",  # an emoji
    "'%22%3Cscript%3E",
    "{{7*7}}",
]
HOSTILE_ARGS = ["q", "page", "per_page", "sort", "role", "status", "action", "actor",
                "record_type", "record_id", "next", "endpoint", "_method", "_anchor", "_scheme",
                "_external", "values", "kind", "country", "sector", "tag", "organisation",
                "owner", "language", "event", "trip", "year", "deleted", "name", "trips",
                # The reports' filters, and those their numbers add to the lead list.
                "from", "to", "partner", "stalled", "won_from", "won_to", "created_from",
                "created_to", "closed_from", "closed_to", "origin", "open", "reached",
                "brought_by", "lost_reason", "lost_to"]


def get_routes(app, values):
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" in rule.methods and rule.endpoint != "static":
                yield url_for(rule.endpoint, **{k: values[k] for k in rule.arguments})


@pytest.fixture
def admin_client(app):
    return log_in(app.test_client(), make_user(role="admin"))


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=lambda v: v[:20])
def test_no_get_route_fails_on_hostile_query_arguments(app, admin_client, value):
    _, plaintext = make_token(make_user())
    query = "&".join(f"{name}={value}" for name in HOSTILE_ARGS)
    for url in get_routes(app, make_targets()):
        response = admin_client.get(f"{url}?{query}",
                                    headers={"Authorization": f"Bearer {plaintext}"})
        assert response.status_code < 500, (url, response.status_code)
        if "%00" in value:
            assert response.status_code == 400, url


@pytest.mark.parametrize("path", [
    "/admin/users/99999999999999999999999", "/admin/users/0", "/admin/users/-1",
    "/admin/users/2147483648/edit", "/admin/users/1e3",
])
def test_impossible_ids_in_the_path_are_404(admin_client, path):
    assert admin_client.get(path).status_code == 404


@pytest.mark.parametrize("path", [
    "/admin/users/99999999999999999999/deactivate", "/admin/users/2147483648/reactivate",
    "/admin/users/1/tokens/99999999999999999999/revoke",
])
def test_impossible_ids_in_actions_are_404(admin_client, path):
    assert admin_client.post(path).status_code == 404


FORMS = {
    "/login": ["email", "password"],
    "/language": ["language"],
    "/account/password": ["current_password", "new_password", "confirm_password"],
    "/admin/users/new": ["email", "name", "role", "language"],
    "/admin/users/{user_id}/edit": ["email", "name", "role", "language", "version"],
    "/organisations/new": ["name", "kind", "country", "city", "address", "website", "sectors",
                           "tags", "parent_id", "description", "confirm_duplicate"],
    "/organisations/{organisation_id}/edit": ["name", "kind", "country", "website", "parent_id",
                                              "version"],
    "/contacts/new": ["first_name", "last_name", "latin_name", "email", "phone", "mobile",
                      "language", "owner_id", "legal_basis", "source", "informed_on",
                      "marketing_consent", "do_not_contact", "tags", "organisation",
                      "organisation_role"],
    "/contacts/{contact_id}/edit": ["last_name", "email", "phone", "owner_id", "version"],
    "/contacts/{contact_id}/affiliations": ["organisation", "role", "is_current"],
    "/contacts/{contact_id}/erase": ["confirm"],
    "/events/new": ["name", "kind", "parent_id", "starts_on", "ends_on", "country",
                    "partner_ids", "team_member_ids"],
    "/events/{event_id}/edit": ["name", "kind", "starts_on", "ends_on", "version"],
    "/events/{event_id}/capture": ["first_name", "last_name", "latin_name", "organisation",
                                   "position", "email", "phone", "mobile", "note",
                                   "existing_contact"],
    "/events/{event_id}/attendees": ["contact", "status"],
    "/admin/webhooks/new": ["url", "description", "events", "is_active"],
    "/admin/webhooks/{webhook_id}/edit": ["url", "description", "events", "is_active",
                                          "version"],
}
FORM_VALUES = ["\x00", "a\x00b", "\ud800", "\u202eevil", "x" * 10_000, "🦔", "{{7*7}}",
               "<script>alert(1)</script>", "' OR 1=1 --", "99999999999999999999999", ""]


@pytest.mark.parametrize("path", sorted(FORMS))
@pytest.mark.parametrize("value", FORM_VALUES, ids=lambda v: repr(v[:12]))
def test_no_form_fails_on_hostile_values(app, path, value):
    admin = make_user(role="admin")
    targets = make_targets()
    client = log_in(app.test_client(), admin)
    url = path.format(**targets)
    for field in FORMS[path]:
        data = {name: "ok value here" for name in FORMS[path]}
        data[field] = value
        # Encoded by hand, as a browser would send it: a lone surrogate becomes %ED%A0%80.
        body = "&".join(f"{k}={quote(v.encode('utf-8', 'surrogatepass'))}" for k, v in data.items())
        response = client.post(url, data=body, content_type="application/x-www-form-urlencoded")
        assert response.status_code < 500, (url, field, response.status_code)
    # No NUL and no 10,000-character value got into any name.
    for table in ("users", "organisations", "events"):
        names = db.session.scalars(sa.text(f"SELECT name FROM {table}")).all()
        assert not any("\x00" in n or len(n) > 300 for n in names), table


def test_markup_in_a_name_is_shown_escaped_everywhere(app, admin_client):
    user = make_user(name="<b>fett</b>{{7*7}}")
    for url in ("/admin/users", f"/admin/users/{user.id}", f"/admin/users/{user.id}/edit",
                "/admin/audit"):
        html = admin_client.get(url).get_data(as_text=True)
        assert "<b>fett</b>" not in html and "&lt;b&gt;fett&lt;/b&gt;{{7*7}}" in html, url
        assert ">49<" not in html


def test_a_forged_form_without_csrf_token_changes_nothing_anywhere(app_factory):
    """With CSRF on, every POST route refuses a form without token and writes nothing."""
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        admin = make_user(role="admin")
        values = make_targets()
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        csrf = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        client.post("/login", data={"email": admin.email, "password": "correct horse battery staple",
                                    "csrf_token": csrf})
        entries_before = db.session.scalar(sa.select(sa.func.count(AuditEntry.id)))
        with app.test_request_context():
            posts = [url_for(rule.endpoint, **{k: values[k] for k in rule.arguments})
                     for rule in app.url_map.iter_rules()
                     if "POST" in rule.methods and not rule.endpoint.startswith("api.")]
        assert len(posts) >= 8
        for url in posts:
            response = client.post(url, data={"name": "forged", "language": "en"})
            assert response.status_code == 400, url
        db.session.expire_all()
        assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == entries_before
        assert client.get("/").status_code == 200  # still logged in: logout was refused too
