from datetime import datetime

import pytest
import sqlalchemy as sa

from crm.audit.models import AuditEntry
from crm.audit.services import record
from crm.extensions import db
from tests.factories import make_user


def test_managers_read_the_audit_log_newest_first(login):
    _manager, client = login("manager")
    make_user(name="Erste Person")
    make_user(name="Zweite Person")
    table = client.get("/admin/audit").get_data(as_text=True).split("<tbody>")[1]
    assert table.index("Zweite Person") < table.index("Erste Person")
    assert "auth.login" in table


def test_the_audit_log_filters_by_action_and_person(login):
    manager, client = login("manager", name="Katrin Sommer")
    make_user(name="Jonas Weber")
    html = client.get("/admin/audit?action=auth.").get_data(as_text=True)
    assert "auth.login" in html and "user.create" not in html
    html = client.get(f"/admin/audit?actor={manager.id}").get_data(as_text=True)
    assert "auth.login" in html and "Jonas Weber" not in html.split("<tbody>")[1]


def test_the_audit_log_filters_by_period_and_record_type(login):
    """A period is whole days in the agency's time zone: 23:30 UTC on 31 May is 1 June there."""
    _manager, client = login("manager")
    for moment, name in (("2025-05-31T21:30:00+00:00", "Im Mai"),
                         ("2025-05-31T23:30:00+00:00", "Am ersten Juni"),
                         ("2025-06-30T21:59:00+00:00", "Ende Juni"),
                         ("2025-06-30T22:00:00+00:00", "Im Juli")):
        entry = record("test.entry", actor=None, label=name)
        entry.created_at = datetime.fromisoformat(moment)
    db.session.commit()
    for query in ("from=2025-06-01&to=2025-06-30", "from=1.6.2025&to=30.06.2025"):
        html = client.get(f"/admin/audit?{query}").get_data(as_text=True)
        table = html.split("<tbody>")[1]
        assert "Am ersten Juni" in table and "Ende Juni" in table
        assert "Im Mai" not in table and "Im Juli" not in table
    html = client.get("/admin/audit?record_type=users").get_data(as_text=True)
    assert "Am ersten Juni" not in html and "(Benutzer" in html.split("<tbody>")[1]


@pytest.mark.parametrize(("query", "field"), [
    ("from=gestern", "from"), ("to=2025-02-30", "to"), ("from=0001-01-01", "from"),
    ("to=9999-12-31", "to"), ("from=2025-06-02&to=2025-06-01", "to"),
    ("from=" + "9" * 5000, "from"),
])
def test_a_period_that_cannot_be_read_is_named_beside_its_field(login, query, field):
    _manager, client = login("manager")
    response = client.get(f"/admin/audit?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'id="error-{field}"' in html and "<tbody>" not in html


def test_the_audit_log_page_runs_the_same_queries_for_few_and_many_entries(login, count_queries):
    manager, client = login("manager")
    counts = []
    for total in (5, 80):
        while db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) < total:
            record("test.entry", actor=manager, record=manager, changes={"name": ("a", "b")})
        db.session.commit()
        with count_queries() as statements:
            assert client.get("/admin/audit?per_page=100").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_audit_entries_redact_secret_fields_whatever_their_name(app):
    user = make_user()
    entry = record("test.secret", actor=user, record=user, changes={
        "password": ("old", "new"), "api_token": ("a", "b"), "client_secret": ("c", "d"),
        "name": ("Alt", "Neu")})
    assert entry.changes["password"] == ["[redacted]", "[redacted]"]
    assert entry.changes["api_token"] == ["[redacted]", "[redacted]"]
    assert entry.changes["client_secret"] == ["[redacted]", "[redacted]"]
    assert entry.changes["name"] == ["Alt", "Neu"]


def test_markup_in_audit_entries_is_shown_escaped(login):
    _, client = login("admin")
    make_user(name="<script>alert(1)</script>")
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_refused_access_is_in_the_audit_log(login):
    member, client = login("member")
    assert client.get("/admin/audit?from=2025-01-01").status_code == 403
    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "access.refused")).one()
    assert entry.actor_id == member.id
    assert entry.record_label == "GET /admin/audit"
    assert entry.changes == {"permission": [None, "view_audit"]}
    # Knocking again at once adds nothing: the log cannot be flooded.
    for _ in range(3):
        assert client.get("/admin/audit?from=2025-01-01").status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(
        AuditEntry.action == "access.refused")) == 1
