"""Generated hostile text (hypothesis) in the text fields of the contact and organisation forms:
never a 5xx; the text is stored as typed (without surrounding blanks) and shown escaped, or the
form comes back with a message beside that field and nothing is stored."""

import itertools
import re
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from markupsafe import escape

from crm.extensions import db
from crm.models import Contact, Organisation
from tests.api.test_properties import TEXT
from tests.auth.test_views import field_error
from tests.conftest import log_in
from tests.factories import make_user

FORMS = {
    "/contacts/new": (Contact, {"last_name": "Probe", "legal_basis": "public_task"},
                      "last_name", ["first_name", "last_name", "latin_name", "academic_title",
                                    "position", "source"]),
    "/organisations/new": (Organisation, {"name": "Probe", "kind": "investor"}, "name",
                           ["name", "city", "address", "description"]),
}
FIELDS = [(path, field) for path, (*_, fields) in FORMS.items() for field in fields]
_numbers = itertools.count(1)


@pytest.fixture
def admin_client(app):
    return log_in(app.test_client(), make_user(role="admin"))


def encoded(data):
    """A form body as a browser sends it: a lone surrogate becomes %ED%A0%80."""
    return "&".join(f"{k}={quote(v.encode('utf-8', 'surrogatepass'))}" for k, v in data.items())


@pytest.mark.parametrize(("path", "field"), FIELDS, ids=[f"{p}:{f}" for p, f in FIELDS])
@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(value=TEXT)
def test_a_form_keeps_text_exactly_or_names_the_field(admin_client, path, field, value):
    model, base, name_field, _ = FORMS[path]
    data = {**base, name_field: f"{base[name_field]} {next(_numbers)}", field: value}
    before = db.session.scalar(sa.select(sa.func.count()).select_from(model))
    response = admin_client.post(path, data=encoded(data),
                                 content_type="application/x-www-form-urlencoded")
    assert response.status_code < 500, (field, value[:40], response.status_code)
    after = db.session.scalar(sa.select(sa.func.count()).select_from(model))
    if response.status_code == 302:
        record_id = int(re.search(r"/(\d+)$", response.headers["Location"])[1])
        db.session.expire_all()
        expected = value.strip() or None
        assert getattr(db.session.get(model, record_id), field) == expected
        if expected and "<" in expected:
            page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
            assert str(escape(expected)) in page
            if "<script" in expected:
                assert expected not in page
        assert after == before + 1
    else:
        assert response.status_code in (400, 409, 422), response.status_code
        assert after == before, "a refused form saves nothing"
        if response.status_code == 422:
            assert field_error(response.get_data(as_text=True), field), (field, value[:40])
