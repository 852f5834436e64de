import re

import pytest
from openapi_spec_validator import validate

from crm.auth import services
from crm.extensions import db
from tests.conftest import log_in
from tests.factories import make_token, make_user


def bearer(plaintext):
    return {"Authorization": f"Bearer {plaintext}"}


def test_me_returns_the_tokens_user_with_record_fields(client, app):
    user = make_user(name="김민정", role="manager", language="en")
    _, plaintext = make_token(user)
    response = client.get("/api/v1/me", headers=bearer(plaintext))
    assert response.status_code == 200
    body = response.json
    assert body["name"] == "김민정" and body["role"] == "manager" and body["language"] == "en"
    assert {"id", "created_at", "updated_at", "version"} <= body.keys()
    assert "password_hash" not in body
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("header", [
    None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer lotse_not-a-real-token",
    "Bearer " + "x" * 10000, "bearer\tlotse_abc", "Token lotse_abc",
])
def test_without_a_valid_token_the_api_answers_401_json_never_a_redirect(client, app, header):
    make_token(make_user())
    headers = {} if header is None else {"Authorization": header}
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.is_json and response.json["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Location" not in response.headers


@pytest.mark.parametrize(("header", "challenge"), [
    (None, 'Bearer realm="lotse"'),
    ("Basic dXNlcjpwYXNz", 'Bearer realm="lotse"'),
    ("Bearer lotse_wrong", 'Bearer realm="lotse", error="invalid_token"'),
])
def test_the_401_challenge_follows_rfc_6750(client, header, challenge):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/me", headers=headers)
    assert response.headers["WWW-Authenticate"] == challenge


def test_a_revoked_token_stops_working(client, app):
    token, plaintext = make_token(make_user())
    services.revoke_token(token, actor=None)
    db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(plaintext)).status_code == 401


def test_the_token_of_a_deactivated_user_stops_working(client, app):
    make_user(role="admin")
    user = make_user()
    _, plaintext = make_token(user)
    services.deactivate_user(user, actor=None)
    db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(plaintext)).status_code == 401


def test_a_session_cookie_does_not_open_the_api(app):
    client = log_in(app.test_client(), make_user())
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/me").status_code == 401


def test_token_use_is_recorded(client, app):
    token, plaintext = make_token(make_user())
    assert token.last_used_at is None
    client.get("/api/v1/me", headers=bearer(plaintext))
    db.session.expire_all()
    assert token.last_used_at is not None


def test_api_errors_follow_the_users_language(client, app):
    _, plaintext = make_token(make_user(language="en"))
    response = client.get("/api/v1/nothing", headers=bearer(plaintext))
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_openapi_document_is_valid_openapi_3_1(client):
    spec = client.get("/api/v1/openapi.json").json
    validate(spec)
    assert spec["openapi"].startswith("3.1")


def test_openapi_document_describes_every_api_route(app, client):
    spec = client.get("/api/v1/openapi.json").json
    methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
    documented = {(path, method) for path, item in spec["paths"].items()
                  for method in item.keys() & methods}
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            # `<id:contact_id>` is `{contact_id}` in OpenAPI: the converter is Flask's business.
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            routes |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == documented


def test_the_me_response_matches_its_schema(client, app):
    from jsonschema import validate as validate_json

    spec = client.get("/api/v1/openapi.json").json
    _, plaintext = make_token(make_user())
    validate_json(client.get("/api/v1/me", headers=bearer(plaintext)).json,
                  spec["components"]["schemas"]["User"])
    validate_json(client.get("/api/v1/me").json, spec["components"]["schemas"]["Error"])


def _media_of_every_answer(document):
    """(where, media type object) of every answer of every operation, references followed."""
    components = document["components"]["responses"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            for status, answer in operation["responses"].items():
                if "$ref" in answer:
                    answer = components[answer["$ref"].rsplit("/", 1)[-1]]
                for media_type, media in answer.get("content", {}).items():
                    yield f"{method.upper()} {path} {status} {media_type}", media


def test_every_answer_and_schema_has_an_example_that_fits_it(spec):
    """An example beside each answer, or in the schema it names; and every example of the
    document (of answers and of schemas) valid against its schema."""
    schemas = spec.document["components"]["schemas"]
    for where, media in _media_of_every_answer(spec.document):
        schema = media["schema"]
        named = schemas.get(schema.get("$ref", "").rsplit("/", 1)[-1], {})
        assert "example" in media or "examples" in named, where
        if "example" in media:
            spec.validate(schema, media["example"])
    for name, schema in schemas.items():
        for example in schema.get("examples", []):
            spec.validate({"$ref": f"#/components/schemas/{name}"}, example)
