"""The admin pages of webhooks: list, register (the secret shown once), change, remove, the
deliveries with their outcome, sending again; only for admins; bad input explained."""

import re

import pytest
import sqlalchemy as sa

from crm.audit.models import AuditEntry
from crm.extensions import db
from crm.webhooks.models import Webhook, WebhookDelivery
from tests.factories import make_lead

ALL_EVENTS = ["lead.created", "lead.stage_changed", "lead.status_changed"]


def shown_secret(html):
    return re.search(r'data-testid="webhook-secret">([^<]+)<', html).group(1)


def test_registering_a_webhook_shows_its_secret_once(login, receiver):
    _, client = login("admin")
    form = client.get("/admin/webhooks/new").get_data(as_text=True)
    assert form.count("checked") == 4  # every event, and active, unless chosen otherwise
    response = client.post("/admin/webhooks/new", data={
        "url": receiver.url, "description": "Partnerplattform Thüringen", "events": ALL_EVENTS,
        "is_active": "y"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    secret = shown_secret(response.get_data(as_text=True))
    webhook = db.session.scalar(sa.select(Webhook))
    assert webhook.secret == secret and len(secret) >= 40
    assert (webhook.url, webhook.events, webhook.is_active) == (receiver.url, ALL_EVENTS, True)
    detail = client.get(f"/admin/webhooks/{webhook.id}").get_data(as_text=True)
    assert secret not in detail and "Partnerplattform Thüringen" in detail
    assert secret not in client.get("/admin/webhooks").get_data(as_text=True)
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "webhook.create"))
    assert entry.changes["secret"] == ["[redacted]", "[redacted]"]
    assert entry.changes["url"] == [None, receiver.url]


def test_a_new_secret_replaces_the_old_one_and_is_shown_once(login, make_webhook):
    _, client = login("admin")
    webhook, old = make_webhook("https://crm.example.org/hooks")
    response = client.post(f"/admin/webhooks/{webhook.id}/secret")
    assert response.status_code == 200
    new = shown_secret(response.get_data(as_text=True))
    db.session.refresh(webhook)
    assert new != old and webhook.secret == new
    assert db.session.scalar(sa.select(AuditEntry.changes).where(
        AuditEntry.action == "webhook.secret")) == {"secret": ["[redacted]", "[redacted]"]}


def test_editing_a_webhook_changes_it_and_notes_it_in_the_audit_log(login, make_webhook):
    _, client = login("admin")
    webhook, _secret = make_webhook("https://crm.example.org/hooks")
    page = client.get(f"/admin/webhooks/{webhook.id}/edit")
    assert page.status_code == 200
    response = client.post(f"/admin/webhooks/{webhook.id}/edit", data={
        "url": "https://crm.example.org/hooks/v2", "description": "", "version": webhook.version,
        "events": ["lead.status_changed"]})
    assert response.status_code == 302
    db.session.refresh(webhook)
    assert (webhook.url, webhook.events, webhook.is_active, webhook.description) == (
        "https://crm.example.org/hooks/v2", ["lead.status_changed"], False, None)
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "webhook.update"))
    assert entry.changes["is_active"] == [True, False]
    assert entry.changes["events"] == [ALL_EVENTS, ["lead.status_changed"]]


def test_an_edit_on_an_outdated_version_is_a_conflict(login, make_webhook):
    _, client = login("admin")
    webhook, _secret = make_webhook("https://crm.example.org/hooks")
    response = client.post(f"/admin/webhooks/{webhook.id}/edit", data={
        "url": "https://crm.example.org/other", "version": webhook.version + 1,
        "events": ALL_EVENTS, "is_active": "y"})
    assert response.status_code == 409
    db.session.refresh(webhook)
    assert webhook.url == "https://crm.example.org/hooks"


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"url": ""}, "url", "Dieses Feld wird benötigt."),
    ({"url": "ftp://files.example.org/in"}, "url", "http:// oder https://"),
    ({"url": "not a url"}, "url", "http:// oder https://"),
    ({"url": "https://"}, "url", "http:// oder https://"),
    ({"url": "https://crm.example.org:99999/x"}, "url", "http:// oder https://"),
    ({"url": "https://user:pw@crm.example.org/x"}, "url", "Benutzernamen und Passwort"),
    ({"url": "https://crm.example.org/" + "x" * 2000}, "url", "höchstens 2.000 Zeichen"),
    ({"description": "d" * 301}, "description", "höchstens 300 Zeichen"),
    ({"description": "Zeile\neins"}, "description", "unzulässige Zeichen"),
    ({"events": []}, "events", "Wählen Sie mindestens ein Ereignis."),
    ({"events": ["lead.deleted"]}, "events", "Wählen Sie nur angebotene Werte."),
])
def test_bad_input_is_explained_beside_the_field_and_nothing_is_saved(login, data, field,
                                                                        message):
    _, client = login("admin")
    form = {"url": "https://crm.example.org/hooks", "description": "", "events": ALL_EVENTS,
            "is_active": "y", **data}
    response = client.post("/admin/webhooks/new", data=form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = re.search(rf'id="{field}-error"[^>]*>([^<]*)<', html)
    assert error and message in error.group(1), html[:3000]
    assert db.session.scalar(sa.select(sa.func.count(Webhook.id))) == 0


def test_the_deliveries_are_listed_with_their_outcome_and_a_failed_one_sent_again(
        app, login, receiver, make_webhook, settle):
    _, client = login("admin")
    webhook, _secret = make_webhook(receiver.url, events=["lead.created"])
    receiver.answers = [500]
    lead = make_lead(title="Mobis Erweiterung Erfurt")
    [row] = settle()
    html = client.get(f"/admin/webhooks/{webhook.id}").get_data(as_text=True)
    assert "Mobis Erweiterung Erfurt" in html and "HTTP 500" in html and "wartet" in html
    assert "Erneut senden" not in html  # only a failed delivery is sent again by hand
    assert client.post(f"/admin/webhooks/{webhook.id}/deliveries/{row.id}/resend"
                       ).status_code == 422
    row.state, row.next_attempt_at = "failed", None
    db.session.commit()
    html = client.get(f"/admin/webhooks/{webhook.id}").get_data(as_text=True)
    assert "fehlgeschlagen" in html and "Erneut senden" in html
    listing = client.get("/admin/webhooks").get_data(as_text=True)
    assert receiver.url in listing and "fehlgeschlagen" in listing
    response = client.post(f"/admin/webhooks/{webhook.id}/deliveries/{row.id}/resend")
    assert response.status_code == 302
    [done] = settle()
    assert (done.state, done.attempts, done.response_status) == ("delivered", 1, 200)
    assert len(receiver.messages()) == 2
    html = client.get(f"/admin/webhooks/{webhook.id}").get_data(as_text=True)
    assert "zugestellt" in html and "HTTP 200" in html
    assert db.session.scalar(sa.select(AuditEntry.record_id).where(
        AuditEntry.action == "webhook.resend")) == webhook.id
    assert lead.id == done.lead_id


def test_a_delivery_of_another_webhook_is_not_found(login, make_webhook, app):
    _, client = login("admin")
    first, _ = make_webhook("https://a.example.org/hooks", is_active=False)
    second, _ = make_webhook("https://b.example.org/hooks", is_active=False)
    delivery = WebhookDelivery(uid="0" * 36, webhook_id=first.id, event="lead.created",
                               body="{}", state="failed", attempts=6)
    db.session.add(delivery)
    db.session.commit()
    assert client.post(f"/admin/webhooks/{second.id}/deliveries/{delivery.id}/resend"
                       ).status_code == 404
    assert client.get("/admin/webhooks/999999").status_code == 404


def test_the_deliveries_are_paged(login, make_webhook):
    _, client = login("admin")
    webhook, _ = make_webhook("https://a.example.org/hooks", is_active=False)
    db.session.add_all(WebhookDelivery(uid=f"{n:036d}", webhook_id=webhook.id,
                                       event="lead.created", body="{}", state="failed",
                                       attempts=6) for n in range(12))
    db.session.commit()
    html = client.get(f"/admin/webhooks/{webhook.id}?per_page=5&page=2").get_data(as_text=True)
    assert "Seite 2 von 3" in html and "12 Einträge" in html


def test_removing_a_webhook_removes_its_deliveries_and_is_audited(login, make_webhook):
    _, client = login("admin")
    webhook, _ = make_webhook("https://a.example.org/hooks", is_active=False)
    db.session.add(WebhookDelivery(uid="1" * 36, webhook_id=webhook.id, event="lead.created",
                                   body="{}", state="failed", attempts=6))
    db.session.commit()
    webhook_id = webhook.id
    response = client.post(f"/admin/webhooks/{webhook_id}/delete")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/webhooks"
    db.session.expire_all()
    assert db.session.get(Webhook, webhook_id) is None
    assert db.session.scalar(sa.select(sa.func.count(WebhookDelivery.id))) == 0
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "webhook.delete"))
    assert entry.record_label == "https://a.example.org/hooks"


@pytest.mark.parametrize("role", ["member", "manager"])
def test_only_admins_open_the_webhook_pages(login, make_webhook, role):
    _, client = login(role)
    webhook, _ = make_webhook("https://a.example.org/hooks", is_active=False)
    for url in ("/admin/webhooks", "/admin/webhooks/new", f"/admin/webhooks/{webhook.id}",
                f"/admin/webhooks/{webhook.id}/edit"):
        assert client.get(url).status_code == 403, url
    for url in (f"/admin/webhooks/{webhook.id}/secret", f"/admin/webhooks/{webhook.id}/delete",
                "/admin/webhooks/new"):
        assert client.post(url).status_code == 403, url
    assert "/admin/webhooks" not in client.get("/").get_data(as_text=True)


def test_the_admin_menu_links_the_webhooks(login):
    _, client = login("admin")
    assert 'href="/admin/webhooks"' in client.get("/").get_data(as_text=True)


def test_the_list_runs_the_same_queries_for_few_and_many_webhooks(login, make_webhook,
                                                                  count_queries):
    _, client = login("admin")
    counts = []
    for total in (2, 30):
        while db.session.scalar(sa.select(sa.func.count(Webhook.id))) < total:
            webhook, _ = make_webhook("https://a.example.org/hooks", is_active=False)
            db.session.add(WebhookDelivery(uid=f"{webhook.id:036d}", webhook_id=webhook.id,
                                           event="lead.created", body="{}", state="failed",
                                           attempts=6))
            db.session.commit()
        with count_queries() as statements:
            html = client.get("/admin/webhooks?per_page=100").get_data(as_text=True)
        assert html.count("fehlgeschlagen") == total
        counts.append(len(statements))
    assert counts[0] == counts[1]
    assert counts[1] <= 4


def test_the_deliveries_run_the_same_queries_for_few_and_many(login, make_webhook,
                                                              count_queries):
    _, client = login("admin")
    webhook, _ = make_webhook("https://a.example.org/hooks", is_active=False)
    counts = []
    for total in (2, 40):
        for n in range(total - (2 if total == 40 else 0)):
            lead = make_lead(commit=False)
            db.session.add(WebhookDelivery(uid=f"{total}-{n}".rjust(36, "0"),
                                           webhook_id=webhook.id, lead_id=lead.id,
                                           event="lead.created", body="{}", state="failed",
                                           attempts=6))
        db.session.commit()
        with count_queries() as statements:
            assert client.get(f"/admin/webhooks/{webhook.id}?per_page=100").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]
