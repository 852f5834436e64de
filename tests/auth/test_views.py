import re
import time

import pytest

from crm.auth import services
from crm.auth.models import User
from crm.extensions import db
from tests.conftest import log_in
from tests.factories import DEFAULT_PASSWORD, make_user


def field_error(html, field_id):
    """The error text shown beside a form field, or None."""
    match = re.search(rf'id="{field_id}-error"[^>]*>([^<]*)<', html)
    return match.group(1).strip() if match else None


def form_alert(html):
    match = re.search(r'class="alert alert-danger" role="alert">\s*<p class="mb-0">([^<]*)<', html)
    return match.group(1).strip() if match else None


# Logging in.


def test_login_page_is_german_by_default(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="de">' in html
    assert "Bei Lotse anmelden" in html
    assert 'for="email">E-Mail-Adresse</label>' in html


def test_login_with_the_right_password_opens_the_home_page(client, app):
    user = make_user(name="Lea Schäfer")
    response = client.post("/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    html = client.get("/").get_data(as_text=True)
    assert "Willkommen, Lea Schäfer" in html


def test_wrong_email_and_wrong_password_get_the_same_answer(client, app):
    user = make_user()
    wrong_password = client.post("/login", data={"email": user.email, "password": "not the one"})
    wrong_email = client.post("/login", data={"email": "nobody@lotse.example",
                                              "password": DEFAULT_PASSWORD})
    assert wrong_password.status_code == wrong_email.status_code == 401
    assert form_alert(wrong_password.get_data(as_text=True)) == form_alert(
        wrong_email.get_data(as_text=True)) == "E-Mail-Adresse oder Passwort ist nicht korrekt."


def test_a_deactivated_user_cannot_log_in(client, app):
    make_user(role="admin")
    user = make_user()
    services.deactivate_user(user, actor=None)
    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": "", "password": "x"}, "email", "Dieses Feld wird benötigt."),
        ({"email": "a@b.de", "password": ""}, "password", "Dieses Feld wird benötigt."),
        ({"email": "a" * 300 + "@b.de", "password": "x"}, "email", None),
        ({"email": "a@b.de", "password": "p" * 300}, "password", None),
    ],
)
def test_login_form_shows_bad_input_beside_the_field(client, data, field, message):
    response = client.post("/login", data=data)
    assert response.status_code == 422
    error = field_error(response.get_data(as_text=True), field)
    assert error
    if message:
        assert error == message


@pytest.mark.parametrize("target", ["/admin/users", "/contacts?q=M%C3%BCller"])
def test_login_returns_to_the_page_asked_for(client, app, target):
    user = make_user(role="admin")
    response = client.get(target)
    assert response.status_code == 302
    login_url = response.headers["Location"]
    assert login_url.startswith("/login?next=")
    response = client.post(login_url, data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.headers["Location"] == target


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example",
                                    "javascript:alert(1)", "http:/evil.example", "/%0d%0aX"])
def test_login_never_redirects_off_the_site(client, app, target):
    user = make_user()
    response = client.post("/login", query_string={"next": target},
                           data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//") and "evil" not in location


def test_a_logged_in_user_opening_login_goes_home(login):
    _, client = login()
    assert client.get("/login").headers["Location"] == "/"


# Logging out and ending sessions.


def test_logout_is_a_post(login):
    _, client = login()
    assert client.get("/logout").status_code == 405
    response = client.post("/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/").status_code == 302


def copy_session(source, app):
    """A second browser holding a copy of `source`'s session cookie."""
    copy = app.test_client()
    copy.set_cookie("lotse_session", source.get_cookie("lotse_session").value)
    return copy


def test_a_session_cookie_copied_before_logout_does_not_work_after_it(app, login):
    _, client = login()
    stolen = copy_session(client, app)
    assert stolen.get("/").status_code == 200
    client.post("/logout")
    response = stolen.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_logout_ends_the_sessions_on_other_devices_too(app):
    user = make_user()
    laptop, phone = log_in(app.test_client(), user), log_in(app.test_client(), user)
    laptop.post("/logout")
    assert phone.get("/").status_code == 302


def test_changing_the_password_ends_other_sessions_but_keeps_this_one(app):
    user = make_user()
    laptop, phone = log_in(app.test_client(), user), log_in(app.test_client(), user)
    stolen = copy_session(laptop, app)
    response = laptop.post("/account/password", data={
        "current_password": DEFAULT_PASSWORD, "new_password": "a new long password",
        "confirm_password": "a new long password"})
    assert response.status_code == 302
    assert laptop.get("/").status_code == 200
    assert phone.get("/").status_code == 302
    assert stolen.get("/").status_code == 302


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"current_password": "wrong one", "new_password": "a new long password",
          "confirm_password": "a new long password"}, "current_password"),
        ({"current_password": DEFAULT_PASSWORD, "new_password": "short",
          "confirm_password": "short"}, "new_password"),
        ({"current_password": DEFAULT_PASSWORD, "new_password": "a new long password",
          "confirm_password": "another long password"}, "confirm_password"),
        ({"current_password": DEFAULT_PASSWORD, "new_password": DEFAULT_PASSWORD,
          "confirm_password": DEFAULT_PASSWORD}, "new_password"),
    ],
)
def test_password_change_shows_the_problem_beside_the_field(app, login, data, field):
    user, client = login()
    response = client.post("/account/password", data=data)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field)
    db.session.expire_all()
    assert services.authenticate(user.email, DEFAULT_PASSWORD) is not None


def test_deactivating_a_user_ends_their_session_at_the_next_request(app, login):
    _admin, admin_client = login("admin")
    user, client = login("member")
    assert client.get("/").status_code == 200
    admin_client.post(f"/admin/users/{user.id}/deactivate")
    assert client.get("/").status_code == 302


def test_a_role_change_takes_effect_on_the_next_request(app, login):
    _, admin_client = login("admin")
    user, client = login("member")
    assert client.get("/admin/audit").status_code == 403
    response = admin_client.post(f"/admin/users/{user.id}/edit", data={
        "email": user.email, "name": user.name, "role": "manager", "language": "de",
        "version": user.version})
    assert response.status_code == 302
    assert client.get("/admin/audit").status_code == 200


def test_the_session_ends_after_the_idle_timeout(app, login):
    _, client = login()
    with client.session_transaction() as session:
        session["seen_at"] -= 31 * 60
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_the_session_ends_after_the_absolute_timeout_even_when_active(app, login):
    _, client = login()
    with client.session_transaction() as session:
        session["login_at"] -= 12 * 3600 + 1
        session["seen_at"] = int(time.time())
    assert client.get("/").status_code == 302


def test_an_expired_session_cannot_change_the_account_language(app, login):
    user, client = login()
    with client.session_transaction() as session:
        session["seen_at"] -= 31 * 60
    client.post("/language", data={"language": "en"})
    db.session.expire_all()
    assert db.session.get(User, user.id).language == "de"
    assert client.get("/").status_code == 302


def test_a_session_without_login_times_counts_as_expired(app, login):
    _, client = login()
    with client.session_transaction() as session:
        del session["login_at"]
    assert client.get("/").status_code == 302


def test_login_starts_a_new_session(app):
    user = make_user()
    client = app.test_client()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    log_in(client, user)
    with client.session_transaction() as session:
        assert "planted" not in session


# One-time passwords.


def test_a_one_time_password_must_be_replaced_before_anything_else(app):
    user, one_time = services.create_user(email="neu@lotse.example", name="Neu", actor=None)
    db.session.commit()
    client = log_in(app.test_client(), user, one_time)
    response = client.get("/contacts")
    assert response.status_code == 302 and response.headers["Location"] == "/account/password"
    client.post("/account/password", data={"current_password": one_time,
                                           "new_password": "my own good password",
                                           "confirm_password": "my own good password"})
    assert client.get("/contacts").status_code == 200


# Language.


def test_anonymous_visitors_can_switch_the_login_page_to_english(client):
    response = client.post("/language", data={"language": "en"}, query_string={"next": "/login"})
    assert response.headers["Location"] == "/login"
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in html and "Log in to Lotse" in html


def test_a_user_switching_to_english_keeps_it_across_sessions(app, login):
    user, client = login()
    client.post("/language", data={"language": "en"})
    assert "Welcome," in client.get("/").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).language == "en"
    other = log_in(app.test_client(), user)
    assert '<html lang="en">' in other.get("/").get_data(as_text=True)


def test_after_logout_the_login_page_keeps_the_users_language(login):
    _, client = login(language="en")
    response = client.post("/logout", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html and "You have been logged out on all your devices." in html


@pytest.mark.parametrize("language", ["fr", "", "de" * 50, "<script>"])
def test_an_unknown_language_is_refused_without_change(app, login, language):
    user, client = login()
    response = client.post("/language", data={"language": language})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).language == "de"


def test_account_page_shows_the_users_details(login):
    user, client = login(name="Wei Zhang (张伟)")
    html = client.get("/account").get_data(as_text=True)
    assert "Wei Zhang (张伟)" in html and user.email in html and "Teammitglied" in html
