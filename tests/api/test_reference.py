"""The API reference page: every operation and schema of the OpenAPI document, readable,
served by the application without anything from elsewhere."""

import re

from crm.api.openapi import build_spec
from crm.api.reference import code_spans, type_label


def test_the_page_shows_every_operation_and_schema(app, client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    spec = build_spec()
    for path, item in spec["paths"].items():
        for method in ("get", "post", "patch", "delete"):
            if method not in item:
                continue
            operation = item[method]
            for parameter in (*item.get("parameters", []), *operation.get("parameters", [])):
                if "name" in parameter:
                    assert f">{parameter['name']}" in html
            anchor = f'id="op-{operation["operationId"]}"'
            assert anchor in html, (method, path)
            block = html.split(anchor, 1)[1].split("</article>", 1)[0]
            assert f"<code>{path}</code>" in block and method.upper() in block
            for status in operation["responses"]:
                assert f">{status}</th>" in block, (path, method, status)
    for name in spec["components"]["schemas"]:
        assert f'id="schema-{name}"' in html, name
    # Parameters, enumerations and code spans are shown, not left as raw JSON.
    contacts = html.split('id="op-listContacts"', 1)[1].split("</article>", 1)[0]
    assert ">organisation" in contacts and "<code>next_cursor</code>" in contacts
    stage = html.split('id="schema-Stage"', 1)[1].split("</article>", 1)[0]
    assert "<code>prospect</code>" in stage
    # A schema with fields shows its example, as JSON.
    results = html.split('id="schema-ResultsReport"', 1)[1].split("</article>", 1)[0]
    assert '"by_origin": [' in results and '"key": "foreign"' in results


def test_the_page_needs_no_token_and_nothing_from_elsewhere(client):
    html = client.get("/api/v1/docs").get_data(as_text=True)
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_labels_of_schemas_and_code_in_descriptions():
    assert type_label({"$ref": "#/components/schemas/Contact"}) == "Contact"
    assert type_label({"type": "array", "items": {"type": "string"}}) == "array of string"
    assert type_label({"type": ["string", "null"], "format": "date"}) == "string or null (date)"
    assert type_label({"enum": ["a", "b", None]}) == "one of a, b"
    assert str(code_spans("Pass `next_cursor` <b>")) == "Pass <code>next_cursor</code> &lt;b&gt;"
