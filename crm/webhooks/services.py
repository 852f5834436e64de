"""Registering webhooks, changing them, and sending a delivery again. Admins only (the views
check); every change is in the audit log, the secret's value never."""

import secrets
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l

from crm.audit.services import diff, record
from crm.core.models import utcnow
from crm.core.services import NotFoundError, ValidationError, check_version
from crm.core.validation import Checker
from crm.extensions import db
from crm.webhooks import outbox
from crm.webhooks.delivery import is_local
from crm.webhooks.models import DeliveryState, Webhook, WebhookDelivery, WebhookEvent

FIELDS = ("url", "description", "events", "is_active")
URL_MAX = 2000
LOCAL_REFUSED = _l("This address is in the local network, where Lotse sends no webhooks "
                   "unless the setting WEBHOOK_ALLOW_LOCAL_NETWORK allows it.")
DESCRIPTION_MAX = 300


def new_secret():
    """A signing key: 32 random bytes, URL-safe text."""
    return secrets.token_urlsafe(32)


def get_webhook(webhook_id):
    webhook = db.session.get(Webhook, webhook_id)
    if webhook is None:
        raise NotFoundError(_l("There is no such webhook."))
    return webhook


def get_delivery(webhook, delivery_id):
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.webhook_id != webhook.id:
        raise NotFoundError(_l("There is no such delivery."))
    return delivery


def snapshot(webhook):
    return {"url": webhook.url, "description": webhook.description,
            "events": list(webhook.events), "is_active": webhook.is_active}


def create_webhook(data, *, actor):
    """Register a webhook with a new secret; returns `(webhook, secret)`, the secret to be
    shown this once."""
    clean = _clean(data)
    secret = new_secret()
    webhook = Webhook(**clean, secret=secret, created_by_id=getattr(actor, "id", None))
    db.session.add(webhook)
    db.session.flush()
    record("webhook.create", actor=actor, record=webhook,
           changes={**diff({}, snapshot(webhook)), "secret": (None, secret)})
    return webhook, secret


def update_webhook(webhook, data, *, actor, expected_version=None):
    check_version(webhook, expected_version)
    clean = _clean(data)
    before = snapshot(webhook)
    for field, value in clean.items():
        setattr(webhook, field, value)
    changes = diff(before, snapshot(webhook))
    if changes:
        db.session.flush()
        record("webhook.update", actor=actor, record=webhook, changes=changes)
    return webhook


def regenerate_secret(webhook, *, actor):
    """A new secret for `webhook` (the old one stops signing at once); returned to be shown
    this once."""
    secret = new_secret()
    webhook.secret = secret
    webhook.updated_at = utcnow()
    db.session.flush()
    record("webhook.secret", actor=actor, record=webhook, changes={"secret": ("", secret)})
    return secret


def delete_webhook(webhook, *, actor):
    """Remove the webhook and its deliveries; the audit log keeps what it was."""
    record("webhook.delete", actor=actor, record=webhook,
           changes=diff(snapshot(webhook), dict.fromkeys(FIELDS)))
    db.session.delete(webhook)
    db.session.flush()


def resend_delivery(delivery, *, actor):
    """Send a delivery that was given up again, with the schedule of attempts from the start;
    it goes out once the transaction is committed."""
    if delivery.state != DeliveryState.FAILED.value:
        raise ValidationError(_l("Only a failed delivery can be sent again."))
    delivery.state = DeliveryState.PENDING.value
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    delivery.response_status = delivery.error = None
    db.session.flush()
    record("webhook.resend", actor=actor, record=delivery.webhook,
           changes={"delivery": (None, delivery.uid)})
    outbox.send_after_commit(db.session, [delivery.id])
    return delivery


def _clean(data):
    check = Checker(data)
    clean = {
        "url": _url(check),
        "description": check.text("description", max_length=DESCRIPTION_MAX),
        "events": check.choices("events", [e.value for e in WebhookEvent]),
        "is_active": check.boolean("is_active"),
    }
    if not clean["events"] and "events" not in check.errors:
        check.fail("events", _l("Choose at least one event."))
    check.done()
    # In the order of the list, whatever order they came in.
    clean["events"] = [e.value for e in WebhookEvent if e.value in clean["events"]]
    return clean


def _url(check):
    """The receiver's address exactly as given: http or https, with a host, and no user name
    or password in it (the signature shows who sends)."""
    value = check.text("url", max_length=URL_MAX, required=True)
    if value is None:
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError for a port that is not one)
        hostname = parts.hostname
    except ValueError:
        parts, hostname = None, None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not hostname \
            or any(c.isspace() for c in value):
        check.fail("url", _l("Enter an address starting with http:// or https:// and a host, "
                             "e.g. https://crm.example.org/hooks/lotse."))
        return None
    if parts.username is not None or parts.password is not None:
        check.fail("url", _l("Leave out the user name and password: the signature shows "
                             "the receiver that the message comes from Lotse."))
        return None
    if is_local(hostname) and not current_app.config["WEBHOOK_ALLOW_LOCAL_NETWORK"]:
        check.fail("url", LOCAL_REFUSED)
        return None
    return value
