"""Each API token may make `API_RATE_LIMIT` requests a window: every answer says how many are
left, the one over the limit gets 429 with `Retry-After` and changes nothing; tokens are counted
apart, in the shared storage that every worker sees."""

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.organisations.models import Organisation
from tests.api.conftest import make_api
from tests.factories import make_token


@pytest.fixture
def limited(app_factory, spec):
    """An app whose tokens may make three requests a minute, and a client with a token."""
    app = app_factory(RATELIMIT_ENABLED=True, API_RATE_LIMIT="3 per minute")
    with app.app_context():
        yield app, make_api(app, spec)
        db.session.remove()


def organisations():
    return db.session.scalar(sa.select(sa.func.count()).select_from(Organisation))


def test_every_answer_says_what_is_left_and_the_one_over_gets_429(limited):
    _app, api = limited
    answers = [api.get("/api/v1/me") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0"]
    assert {a.headers["RateLimit-Limit"] for a in answers} == {"3"}
    assert all(0 < int(a.headers["RateLimit-Reset"]) <= 60 for a in answers)

    over = api.get("/api/v1/organisations")  # checked against the document's 429 too
    assert over.status_code == 429
    assert over.json["error"]["code"] == "rate_limited"
    assert 0 < int(over.headers["Retry-After"]) <= 60
    assert over.headers["RateLimit-Remaining"] == "0"
    message = over.json["error"]["message"]  # in the token user's language, German by default
    assert "zu viele Anfragen" in message and f"{over.headers['Retry-After']} Sekunden" in message


def test_a_write_over_the_limit_saves_nothing(limited):
    _app, api = limited
    for _ in range(3):
        api.get("/api/v1/me")
    before = organisations()
    response = api.post("/api/v1/organisations", {"name": "Zu spät GmbH", "kind": "investor"})
    assert response.status_code == 429
    assert organisations() == before


def test_each_token_has_its_own_allowance(limited):
    app, api = limited
    for _ in range(3):
        api.get("/api/v1/me")
    assert api.get("/api/v1/me").status_code == 429
    _, other = make_token(api.user, name="second script")
    response = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {other}"})
    assert response.status_code == 200 and response.headers["RateLimit-Remaining"] == "2"


def test_the_count_is_shared_by_every_worker(limited, app_factory):
    """A second app on the same database (another gunicorn worker) sees the same count."""
    _app, api = limited
    for _ in range(3):
        api.get("/api/v1/me")
    worker = app_factory(RATELIMIT_ENABLED=True, API_RATE_LIMIT="3 per minute")
    response = worker.test_client().get("/api/v1/me",
                                        headers={"Authorization": f"Bearer {api.token}"})
    assert response.status_code == 429


def test_refused_tokens_and_the_public_documents_are_not_counted(limited):
    app, api = limited
    client = app.test_client()
    for _ in range(5):
        assert client.get("/api/v1/me", headers={"Authorization": "Bearer lotse_wrong"}
                          ).status_code == 401
        response = client.get("/api/v1/openapi.json")
        assert response.status_code == 200 and "RateLimit-Limit" not in response.headers
    assert api.get("/api/v1/me").headers["RateLimit-Remaining"] == "2"


def test_without_limits_no_allowance_is_told(app, spec):
    api = make_api(app, spec)  # the tests' app turns rate limits off
    response = api.get("/api/v1/me")
    assert response.status_code == 200 and "RateLimit-Limit" not in response.headers


def test_a_limit_that_cannot_be_read_stops_the_start(app_factory):
    with pytest.raises(ValueError):
        app_factory(RATELIMIT_ENABLED=True, API_RATE_LIMIT="oft")


def test_every_operation_with_a_token_documents_the_429_and_the_allowance(spec):
    components = spec.document["components"]["responses"]
    for path, operations in spec.document["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            with_token = operation.get("security") != []
            assert ("429" in operation["responses"]) == with_token, (method, path)
            for status, answer in operation["responses"].items():
                answer = components.get(answer.get("$ref", "").rsplit("/")[-1], answer)
                told = "RateLimit-Remaining" in answer.get("headers", {})
                assert told == (with_token and status != "401"), (method, path, status)


def test_another_storage_counts_the_same(app_factory, spec):
    """Any storage of the `limits` library (Redis on several machines; here the memory)."""
    app = app_factory(RATELIMIT_ENABLED=True, API_RATE_LIMIT="2 per hour",
                      RATELIMIT_STORAGE_URI="memory://")
    with app.app_context():
        api = make_api(app, spec)
        answers = [api.get("/api/v1/me") for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert [a.headers["RateLimit-Remaining"] for a in answers] == ["1", "0", "0"]
        assert 3500 < int(answers[2].headers["Retry-After"]) <= 3600
        db.session.remove()
