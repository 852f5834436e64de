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
