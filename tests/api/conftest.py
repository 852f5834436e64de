"""What the API tests share: the OpenAPI document as a checker, and clients with a token that
check every answer against it."""

import re
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from crm.api.openapi import build_spec
from tests.factories import make_token, make_user

SPEC_URI = "urn:lotse-api"


# Checking answers against the OpenAPI document.


class Spec:
    """The OpenAPI document, able to validate an answer against what it documents."""

    def __init__(self, document):
        self.document = document
        self.registry = Registry().with_resource(
            SPEC_URI, Resource.from_contents(document, default_specification=DRAFT202012))
        self.templates = [
            (re.compile("^/api/v1" + re.sub(r"\{\w+\}", "[^/]+", path) + "$"), path)
            for path in document["paths"]]

    def resolve(self, pointer):
        node = self.document
        for part in pointer.removeprefix("#/").split("/"):
            node = node[part]
        return node

    def validator(self, schema):
        if "$ref" in schema:
            schema = {"$ref": SPEC_URI + schema["$ref"]}
        return Draft202012Validator(schema, registry=self.registry, format_checker=FormatChecker())

    def validate(self, schema, instance):
        self.validator(schema).validate(instance)

    def schema(self, name):
        return self.document["components"]["schemas"][name]

    def operation(self, method, url):
        path = urlsplit(url).path
        template = next(t for pattern, t in self.templates if pattern.match(path))
        return self.document["paths"][template][method.lower()]

    def check_response(self, method, url, response):
        """The answer's status is documented for the operation, and its body has the
        documented shape, with no field the document does not name."""
        responses = self.operation(method, url)["responses"]
        assert str(response.status_code) in responses, (method, url, response.status_code,
                                                       response.get_data(as_text=True)[:300])
        documented = responses[str(response.status_code)]
        if "$ref" in documented:
            documented = self.resolve(documented["$ref"])
        content = documented.get("content")
        if content is None:
            assert response.get_data() == b"", (method, url)
            return
        schema = content["application/json"]["schema"]
        assert response.is_json, (method, url)
        self.validate(schema, response.json)
        if "$ref" in schema:
            self._no_undocumented_keys(schema["$ref"].rsplit("/", 1)[-1], response.json)

    def check_request(self, method, url, body):
        """A body the API accepted is one its input schema allows."""
        request_body = self.operation(method, url).get("requestBody")
        if request_body is not None:
            self.validate(request_body["content"]["application/json"]["schema"], body)

    def _no_undocumented_keys(self, name, body):
        if name.endswith("List"):
            for item in body["items"]:
                self._no_undocumented_keys(name.removesuffix("List"), item)
            return
        properties = self.schema(name).get("properties", {})
        if name in ("Organisation", "Contact", "Event", "Lead", "Activity"):
            assert set(body) == set(properties), set(body) ^ set(properties)


@pytest.fixture(scope="module")
def spec():
    from crm import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "spec"})
    with app.app_context():
        return Spec(build_spec())


class Api:
    """A client with a token that checks every answer against the OpenAPI document."""

    def __init__(self, client, token, spec, user):
        self.client, self.token, self.spec, self.user = client, token, spec, user

    def open(self, method, url, body=None, *, raw=None, headers=None, check=True,
             canonical=True):
        """`canonical=False`: the body uses a spelling the services accept beyond the
        documented one (a country in lower case, tags as one text), so it is not checked
        against the input schema."""
        headers = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        if raw is not None:
            response = self.client.open(url, method=method, data=raw, headers=headers,
                                        content_type="application/json")
        elif body is not None:
            response = self.client.open(url, method=method, json=body, headers=headers)
        else:
            response = self.client.open(url, method=method, headers=headers)
        if check:
            self.spec.check_response(method, url, response)
            if body is not None and response.status_code < 300 and canonical:
                self.spec.check_request(method, url, body)
        return response

    def get(self, url, **kwargs):
        return self.open("GET", url, **kwargs)

    def post(self, url, body=None, **kwargs):
        return self.open("POST", url, body, **kwargs)

    def patch(self, url, body=None, **kwargs):
        return self.open("PATCH", url, body, **kwargs)

    def delete(self, url, **kwargs):
        return self.open("DELETE", url, **kwargs)

    def all_pages(self, url, limit):
        """Every item of a list, following the cursors; returns (items, number of pages)."""
        items, pages, cursor = [], 0, None
        while True:
            separator = "&" if "?" in url else "?"
            page_url = f"{url}{separator}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
            body = self.get(page_url).json
            items += body["items"]
            pages += 1
            cursor = body["next_cursor"]
            if cursor is None:
                return items, pages
            assert pages < 100


def make_api(app, spec, role="member", **overrides):
    user = make_user(role=role, **overrides)
    _, plaintext = make_token(user)
    return Api(app.test_client(), plaintext, spec, user)


@pytest.fixture
def api(app, spec):
    return make_api(app, spec)
