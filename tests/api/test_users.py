"""The users a record can be given to, for the agency's other tools."""

from crm.auth import services as auth_services
from crm.extensions import db
from tests.api.conftest import make_api
from tests.factories import make_user


def test_the_active_users_by_name_with_id_and_role(app, spec):
    api = make_api(app, spec, role="member", name="Mira Zander")
    make_user(name="Ärzte Özdemir", role="manager")
    make_user(name="김민정", role="member")
    gone = make_user(name="Anton Alt")
    auth_services.deactivate_user(gone, actor=None)
    db.session.commit()
    response = api.get("/api/v1/users")
    assert response.status_code == 200
    items = response.json["items"]
    assert [item["name"] for item in items] == ["Ärzte Özdemir", "Mira Zander", "김민정"]
    assert items[0]["role"] == "manager" and set(items[0]) == {"id", "name", "role"}
    assert "Anton Alt" not in response.get_data(as_text=True)


def test_the_user_list_refuses_parameters_and_wants_a_token(app, spec):
    api = make_api(app, spec)
    response = api.get("/api/v1/users?role=admin")
    assert response.status_code == 400 and "role" in response.json["error"]["fields"]
    assert app.test_client().get("/api/v1/users").status_code == 401
