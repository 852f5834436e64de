"""Friendly pages (German by default, English by choice) and JSON errors for every failure."""

import pytest
import sqlalchemy as sa
from flask import abort, request

from crm.audit.models import AuditEntry
from crm.auth.models import User
from crm.extensions import db
from tests.factories import DEFAULT_PASSWORD, make_user


def test_unknown_page_is_a_friendly_german_404(login):
    _, client = login()
    response = client.get("/does-not-exist")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Seite nicht gefunden" in html and "Zur Startseite" in html


def test_unknown_page_is_english_for_an_english_user(login):
    _, client = login(language="en")
    assert "Page not found" in client.get("/does-not-exist").get_data(as_text=True)


def test_forbidden_page_is_a_friendly_403(login):
    _, client = login("member")
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "Zugriff verweigert" in response.get_data(as_text=True)


def test_wrong_method_is_a_friendly_405(client):
    response = client.get("/logout")
    assert response.status_code == 405
    assert "Nicht erlaubt" in response.get_data(as_text=True)
    assert "POST" in response.headers["Allow"]


def test_a_body_over_the_size_limit_is_a_friendly_413(app_factory):
    app = app_factory(MAX_CONTENT_LENGTH=1024)
    response = app.test_client().post("/login", data={"email": "x" * 5000, "password": "y"})
    assert response.status_code == 413
    assert "größer als die Grenze von" in response.get_data(as_text=True)


def test_a_missing_csrf_token_is_a_friendly_400_and_changes_nothing(app_factory):
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        user = make_user()
        email = user.email
        response = app.test_client().post("/login", data={"email": email,
                                                          "password": DEFAULT_PASSWORD})
        assert response.status_code == 400
        assert "Formular abgelaufen" in response.get_data(as_text=True)
        assert "Set-Cookie" not in response.headers or "_user_id" not in str(response.headers)
        db.session.expire_all()
        assert db.session.get(User, user.id).last_login_at is None
        assert db.session.scalars(sa.select(AuditEntry.action)).all() == ["user.create"]


def test_a_wrong_csrf_token_is_refused_on_every_form(app_factory):
    app = app_factory(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    for path in ("/login", "/logout", "/language", "/account/password", "/admin/users/new"):
        response = client.post(path, data={"csrf_token": "forged"})
        assert response.status_code == 400, path


def test_too_many_login_attempts_get_a_friendly_429(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    statuses = [client.post("/login", data={"email": "a@b.de", "password": "wrong password"})
                .status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    response = client.post("/login", data={"email": "a@b.de", "password": "wrong password"})
    assert "Zu viele Versuche" in response.get_data(as_text=True)
    assert client.get("/login").status_code == 200  # reading the page is not limited


def add_failing_routes(app):
    @app.get("/boom")
    def boom():
        raise RuntimeError("a bug")

    @app.get("/bad")
    def bad():
        abort(400)

    @app.post("/api/v1/echo")
    def echo():
        return {"length": len(request.get_data())}

    app.before_request_funcs[None].clear()  # the test routes need no login


def test_an_unexpected_error_is_a_friendly_500_without_traceback(app_factory):
    app = app_factory(PROPAGATE_EXCEPTIONS=False)
    add_failing_routes(app)
    client = app.test_client()
    response = client.get("/boom")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Etwas ist schiefgegangen" in html and "Traceback" not in html and "a bug" not in html
    response = client.get("/bad")
    assert response.status_code == 400 and "Ungültige Anfrage" in response.get_data(as_text=True)


def test_a_database_failure_on_a_page_is_a_friendly_503(app_factory, tmp_path):
    app = app_factory(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/crm.sqlite3")
    client = app.test_client()
    response = client.post("/login", data={"email": "a@b.de", "password": "some password"})
    assert response.status_code == 503
    assert "Vorübergehend nicht verfügbar" in response.get_data(as_text=True)


@pytest.mark.parametrize(("method", "path", "status", "code"), [
    ("GET", "/api/v1/nothing-here", 404, "not_found"),
    ("POST", "/api/v1/me", 405, "method_not_allowed"),
    ("GET", "/api/v1/me", 401, "unauthorized"),
])
def test_api_errors_are_json_in_the_designed_format(client, method, path, status, code):
    response = client.open(path, method=method)
    assert response.status_code == status
    assert response.is_json
    error = response.json["error"]
    assert error["code"] == code and error["message"] and error["fields"] == {}


def test_other_client_errors_get_a_page_and_json_too(app_factory):
    app = app_factory()

    @app.get("/teapot")
    @app.get("/api/v1/teapot")
    def teapot():
        abort(418)

    app.before_request_funcs[None].clear()
    client = app.test_client()
    page = client.get("/teapot")
    assert page.status_code == 418 and "Anfrage nicht möglich" in page.get_data(as_text=True)
    api = client.get("/api/v1/teapot")
    assert api.status_code == 418 and api.json["error"]["code"] == "error"


def test_an_api_body_over_the_size_limit_is_a_json_413(app_factory):
    app = app_factory(MAX_CONTENT_LENGTH=100)
    add_failing_routes(app)
    client = app.test_client()
    assert client.post("/api/v1/echo", data="x" * 50).json == {"length": 50}
    response = client.post("/api/v1/echo", data="x" * 1000, content_type="application/json")
    assert response.status_code == 413 and response.json["error"]["code"] == "too_large"
