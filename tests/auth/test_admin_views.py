import re
import time

import pytest
import sqlalchemy as sa

from crm.auth import services
from crm.auth.models import User
from crm.extensions import db
from tests.auth.test_views import field_error
from tests.conftest import log_in
from tests.factories import DEFAULT_PASSWORD, make_user


def shown_password(html):
    return re.search(r'data-testid="one-time-password">([^<]+)<', html).group(1)


def fresh(user):
    db.session.expire_all()
    return db.session.get(User, user.id)


# The list.


def test_admin_sees_every_user_in_german_sort_order(login):
    _, client = login("admin", name="Zoe Admin")
    for name in ("Özlem Yıldız", "Anna Becker", "김민정"):
        make_user(name=name)
    html = client.get("/admin/users").get_data(as_text=True)
    table = html[html.index("<tbody>"):]
    positions = [table.index(name) for name in ("Anna Becker", "Özlem Yıldız", "Zoe Admin", "김민정")]
    assert positions == sorted(positions)


def test_user_list_filters_by_text_role_and_status(login):
    _, client = login("admin", name="Admin One")
    make_user(name="Katrin Sommer", role="manager")
    make_user(name="Jonas Weber")
    inactive = make_user(name="Lea Alt")
    services.deactivate_user(inactive, actor=None)
    db.session.commit()
    html = client.get("/admin/users?q=sommer").get_data(as_text=True)
    assert "Katrin Sommer" in html and "Jonas Weber" not in html
    html = client.get("/admin/users?role=manager").get_data(as_text=True)
    assert "Katrin Sommer" in html and "Jonas Weber" not in html
    html = client.get("/admin/users?status=inactive").get_data(as_text=True)
    assert "Lea Alt" in html and "Jonas Weber" not in html


@pytest.mark.parametrize("query", ["sort=password_hash", "sort=-name", "sort=", "page=-3",
                                   "page=abc", "per_page=100000", "role=king", "status=%E2%80%AE",
                                   "q=%25_%5C", "q=" + "x" * 5000, "sort=name;drop"])
def test_user_list_ignores_nonsense_parameters(login, query):
    _, client = login("admin")
    assert client.get(f"/admin/users?{query}").status_code == 200


def test_user_list_refuses_an_address_that_is_not_utf8(login):
    _, client = login("admin")
    assert client.get("/admin/users?status=%C3%28").status_code == 400


def test_user_list_pages(login):
    _, client = login("admin")
    for n in range(12):
        make_user(name=f"Person {n:02d}")
    html = client.get("/admin/users?per_page=5&page=2").get_data(as_text=True)
    assert "Seite 2 von 3" in html
    assert "13 Einträge" in html


def test_user_list_runs_the_same_number_of_queries_for_few_and_many_users(login, count_queries):
    _, client = login("admin")
    counts = []
    for total in (5, 60):
        while db.session.scalar(sa.select(sa.func.count(User.id))) < total:
            make_user(commit=False)
        db.session.commit()
        with count_queries() as statements:
            assert client.get("/admin/users?per_page=100").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]
    assert counts[1] <= 4


# Creating.


def test_creating_a_user_shows_a_one_time_password_that_works_once(app, login):
    _, client = login("admin")
    response = client.post("/admin/users/new", data={
        "email": "Min-jung.Kim@lotse.example", "name": "김민정", "role": "member", "language": "de"})
    assert response.status_code == 200
    password = shown_password(response.get_data(as_text=True))
    assert response.headers["Cache-Control"] == "no-store"
    user = services.get_user_by_email("min-jung.kim@lotse.example")
    assert user.name == "김민정" and user.must_change_password
    new_client = log_in(app.test_client(), user, password)
    assert new_client.get("/").headers["Location"] == "/account/password"
    assert password not in client.get(f"/admin/users/{user.id}").get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "not an email"}, "email"),
        ({"email": ""}, "email"),
        ({"name": ""}, "name"),
        ({"name": "n" * 201}, "name"),
        ({"role": "emperor"}, "role"),
        ({"language": "xx"}, "language"),
        ({"email": "taken@lotse.example"}, "email"),
    ],
)
def test_creating_a_user_with_bad_input_shows_why_and_saves_nothing(login, data, field):
    _, client = login("admin")
    make_user(email="taken@lotse.example")
    before = db.session.scalar(sa.select(sa.func.count(User.id)))
    form = {"email": "new@lotse.example", "name": "Neu", "role": "member", "language": "de", **data}
    response = client.post("/admin/users/new", data=form)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field)
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == before


# Editing.


def edit_form(user, **changes):
    return {"email": user.email, "name": user.name, "role": user.role, "language": user.language,
            "version": user.version, **changes}


def test_admin_changes_role_and_name(login):
    _, client = login("admin")
    user = make_user(name="Jonas Weber")
    response = client.post(f"/admin/users/{user.id}/edit",
                           data=edit_form(user, role="manager", name="Jonas Weber-Schäfer"))
    assert response.status_code == 302
    user = fresh(user)
    assert (user.role, user.name) == ("manager", "Jonas Weber-Schäfer")


def test_editing_on_top_of_someone_elses_change_shows_it_and_lets_the_admin_decide(login):
    """The admin who saves a form opened before another admin's change sees what that change
    was, keeps their own entries, and replaces it only by saving again."""
    _, client = login("admin")
    user = make_user(name="Original")
    page = client.get(f"/admin/users/{user.id}/edit").get_data(as_text=True)
    loaded_at = re.search(r'name="loaded_at" type="hidden" value="([^"]+)"', page).group(1)
    stale = {**edit_form(user), "loaded_at": loaded_at}
    time.sleep(0.01)  # the other change comes after the form was opened
    client.post(f"/admin/users/{user.id}/edit", data=edit_form(user, name="First"))
    response = client.post(f"/admin/users/{user.id}/edit", data={**stale, "name": "Second"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "nachdem Sie das Formular geöffnet haben" in html
    assert "Original → First" in html
    assert 'value="Second"' in html
    assert fresh(user).name == "First"
    version = re.search(r'name="version" type="hidden" value="(\d+)"', html).group(1)
    again = client.post(f"/admin/users/{user.id}/edit",
                        data={**stale, "name": "Second", "version": version})
    assert again.status_code == 302
    assert fresh(user).name == "Second"


@pytest.mark.parametrize("version", [None, "", "abc", "1.5"])
def test_an_edit_without_a_valid_version_is_refused(login, version):
    _, client = login("admin")
    user = make_user(name="Original")
    form = edit_form(user, name="Changed")
    if version is None:
        del form["version"]
    else:
        form["version"] = version
    response = client.post(f"/admin/users/{user.id}/edit", data=form)
    assert response.status_code == 422
    assert 'class="alert alert-danger" role="alert"' in response.get_data(as_text=True)
    assert fresh(user).name == "Original"


def test_a_login_does_not_make_an_open_edit_form_stale(app, login):
    _, client = login("admin")
    user = make_user()
    form = edit_form(user, name="Renamed")
    log_in(app.test_client(), user).post("/logout")
    assert client.post(f"/admin/users/{user.id}/edit", data=form).status_code == 302


def test_the_last_admin_cannot_be_demoted_on_the_page(login):
    admin, client = login("admin")
    response = client.post(f"/admin/users/{admin.id}/edit", data=edit_form(admin, role="member"))
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "role") == (
        "Dem letzten Administrator kann die Rolle nicht entzogen werden.")
    assert fresh(admin).role == "admin"


# Deactivating, reactivating, resetting.


def test_deactivate_and_reactivate(app, login):
    _, client = login("admin")
    user = make_user()
    assert client.post(f"/admin/users/{user.id}/deactivate").status_code == 302
    assert not fresh(user).is_active
    assert app.test_client().post("/login", data={"email": user.email,
                                                  "password": DEFAULT_PASSWORD}).status_code == 401
    assert client.post(f"/admin/users/{user.id}/reactivate").status_code == 302
    assert fresh(user).is_active
    log_in(app.test_client(), user)


def test_the_last_admin_cannot_deactivate_themselves(login):
    admin, client = login("admin")
    response = client.post(f"/admin/users/{admin.id}/deactivate")
    assert response.status_code == 422
    assert "Der letzte Administrator kann nicht deaktiviert werden." in response.get_data(as_text=True)
    assert fresh(admin).is_active


def test_resetting_a_password_shows_a_new_one_and_ends_the_old_one(app, login):
    _, client = login("admin")
    user = make_user()
    user_client = log_in(app.test_client(), user)
    response = client.post(f"/admin/users/{user.id}/reset-password")
    password = shown_password(response.get_data(as_text=True))
    assert user_client.get("/").status_code == 302
    assert app.test_client().post("/login", data={"email": user.email,
                                                  "password": DEFAULT_PASSWORD}).status_code == 401
    log_in(app.test_client(), user, password)


@pytest.mark.parametrize("path", ["/admin/users/999", "/admin/users/999/edit"])
def test_unknown_users_are_404(login, path):
    _, client = login("admin")
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("action", ["deactivate", "reactivate", "reset-password"])
def test_actions_on_unknown_users_are_404(login, action):
    _, client = login("admin")
    assert client.post(f"/admin/users/999/{action}").status_code == 404


def test_user_detail_shows_the_history_of_the_account(login):
    _, client = login("admin", name="Chefin")
    user = make_user(name="Jonas")
    client.post(f"/admin/users/{user.id}/edit", data=edit_form(user, role="manager"))
    html = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "user.update" in html and "Chefin" in html
    assert "member" in html and "manager" in html


def test_an_admin_revokes_a_token_on_the_users_page(app, login):
    from tests.factories import make_token

    _, client = login("admin")
    user = make_user()
    token, plaintext = make_token(user, name="Newsletter")
    html = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "Newsletter" in html and plaintext not in html
    response = client.post(f"/admin/users/{user.id}/tokens/{token.id}/revoke")
    assert response.status_code == 302
    api = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {plaintext}"})
    assert api.status_code == 401


def test_a_token_is_revoked_only_under_its_own_user(login):
    from tests.factories import make_token

    _, client = login("admin")
    owner, other = make_user(), make_user()
    token, _ = make_token(owner)
    assert client.post(f"/admin/users/{other.id}/tokens/{token.id}/revoke").status_code == 404


def test_the_history_reads_in_german(login):
    _, client = login("admin")
    user = make_user()
    client.post(f"/admin/users/{user.id}/deactivate")
    html = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "Konto deaktiviert" in html and "Aktiv</strong>: ja → nein" in html
    assert "Konto angelegt" in html and "Deutsch" in html
