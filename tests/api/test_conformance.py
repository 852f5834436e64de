"""Conformance of the API to its OpenAPI document, checked by schemathesis against the
application served over HTTP: every operation of the document, with generated valid and
invalid input (parameters, bodies, a missing or wrong token). No answer may be a 5xx, every
status must be one the document lists for the operation, every body must match its schema,
and input the document rules out must be refused."""

import threading

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from werkzeug.serving import make_server

from crm import create_app
from crm.api.openapi import build_spec
from tests.factories import make_token, make_user


def _document():
    with create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "spec"}).app_context():
        return build_spec()


# A request the document allows may still be refused for what it means: an id of no record
# (422), a cursor the API never gave out (400). Every other check is as schemathesis has it.
CONFIG = SchemathesisConfig.from_dict({
    "checks": {"positive_data_acceptance": {
        "expected-statuses": ["2XX", "400", "401", "403", "404", "409", "422"]}},
})
schema = schemathesis.openapi.from_dict(_document(), config=CONFIG)
_current = {}  # the token of the test that runs now (each test has its own database)


@schema.auth(refresh_interval=None)
class BearerToken:
    """The admin's token on every request, except where schemathesis leaves it out on
    purpose (a request without a token must get the documented 401)."""

    def get(self, case, context):
        return _current.get("token", "lotse_none_yet")  # asked once while collecting

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@pytest.fixture
def served(app):
    """The base URL of this test's app, served over HTTP on a free port."""
    _, _current["token"] = make_token(make_user(role="admin"))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/api/v1"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        _current.clear()


@schema.parametrize()
@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_answers_as_documented(case, served):
    case.call_and_validate(base_url=served)
