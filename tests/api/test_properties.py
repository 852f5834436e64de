"""Generated hostile text (hypothesis) in every text field of the API's resources: never a 5xx;
the text is stored as sent (without surrounding blanks) and comes back the same, or it is
refused with a 4xx that names the field and nothing is stored."""

import itertools
import json

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.extensions import db
from crm.models import Contact, Event, Lead, Organisation
from tests.factories import make_organisation

HOSTILE = ["\x00", "a\x00b", "\ud800", "x\udfffy", "\u202eevil", "x" * 10_000, "🦔🇩🇪",
           "'\"", "{{7*7}}", "<script>alert(1)</script>", "' OR 1=1 --", "  padded  ",
           "Zeile\nzwei", "\r\n", "\t", "\x1b[31m", "ℌ𝔢𝔩𝔩𝔬", "김민정", "张伟", "Jürgen Weiß",
           "", " ", "%00", "\\", "null"]
TEXT = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=300))

# Each resource: its model, the smallest valid record, and its free-text fields.
RESOURCES = {
    "organisations": (Organisation, {"kind": "investor"}, "name",
                      ["name", "city", "address", "description"]),
    "contacts": (Contact, {}, "last_name",
                 ["first_name", "last_name", "latin_name", "academic_title", "position",
                  "source"]),
    "events": (Event, {"kind": "business_breakfast", "starts_on": "2025-05-20"}, "name",
               ["name", "city", "description"]),
    "leads": (Lead, {}, "title",
              ["title", "description", "candidate_sites", "competing_locations",
               "chosen_site"]),
}
FIELDS = [(resource, field) for resource, (*_, fields) in RESOURCES.items() for field in fields]
_numbers = itertools.count(1)


def count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.mark.parametrize(("resource", "field"), FIELDS, ids=[f"{r}.{f}" for r, f in FIELDS])
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(value=TEXT)
def test_hostile_text_is_kept_exactly_or_refused_by_name(api, resource, field, value):
    model, base, name_field, _ = RESOURCES[resource]
    body = {**base, name_field: f"Probe {next(_numbers)}"}
    if resource == "leads":
        body["organisation_id"] = make_organisation(name=f"Investor {next(_numbers)}").id
    body[field] = value
    before = count(model)
    # As a client sends it: a lone surrogate travels as the escape \ud800.
    response = api.post(f"/api/v1/{resource}", raw=json.dumps(body))
    assert response.status_code < 500, (field, value[:40], response.status_code)
    expected = value.strip() or None
    if response.status_code == 201:
        record = response.json
        assert record[field] == expected, (field, value[:40])
        assert api.get(f"/api/v1/{resource}/{record['id']}").json[field] == expected
        assert count(model) == before + 1
    else:
        assert 400 <= response.status_code < 500
        assert field in response.json["error"].get("fields", {}) or \
            response.json["error"]["code"] == "duplicate", response.json
        assert count(model) == before, "a refused record is not half saved"
