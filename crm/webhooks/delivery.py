"""Sending webhook deliveries: signed, claimed so that no two senders send one twice, tried
again with back-off until received or given up.

A sender claims an attempt with one conditional UPDATE (the delivery is due and nobody else
holds it) and commits before it sends: no transaction stays open during the HTTP call. The
outcome is written only if the claim is still its own.
"""

import hashlib
import hmac
import http.client
import ipaddress
import logging
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app

from crm.core.models import utcnow
from crm.extensions import db
from crm.webhooks.models import DeliveryState, Webhook, WebhookDelivery

log = logging.getLogger(__name__)

USER_AGENT = "Lotse-Webhooks/1"
# A claim not finished for this long belongs to a sender that has ended: due again. (An
# attempt waits at most WEBHOOK_TIMEOUT_SECONDS for the connection and for each part of the
# answer's head; its body is not read.)
STALE_CLAIM = timedelta(minutes=10)


@dataclass
class Outcome:
    """What a round of sending did."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0

    def add(self, state):
        if state == DeliveryState.DELIVERED:
            self.delivered += 1
        elif state == DeliveryState.PENDING:
            self.retrying += 1
        elif state == DeliveryState.FAILED:
            self.failed += 1


def signature(secret, timestamp, body):
    """`sha256=` and the hex HMAC-SHA256 of `<timestamp>.<body>` with the webhook's secret."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def headers(*, event, uid, secret, body, timestamp):
    return {"Content-Type": "application/json", "User-Agent": USER_AGENT,
            "X-Lotse-Event": event, "X-Lotse-Delivery": uid,
            "X-Lotse-Timestamp": str(timestamp),
            "X-Lotse-Signature": signature(secret, timestamp, body)}


def deliver_due(*, now=None):
    """Send every delivery that is due at `now` (default: now), one after the other."""
    now = now or utcnow()
    ids = db.session.scalars(
        sa.select(WebhookDelivery.id).join(Webhook)
        .where(Webhook.is_active.is_(True), _due(now))
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)).all()
    db.session.rollback()  # nothing held while sending
    outcome = Outcome()
    for delivery_id in ids:
        outcome.add(deliver(delivery_id, now=now))
    return outcome


def deliver(delivery_id, *, now=None):
    """Make the next attempt of one delivery if it is due and nobody else is at it. Returns
    the delivery's state afterwards, or None when it was not this sender's to send."""
    now = now or utcnow()
    claimed = _claim(delivery_id, now)
    if claimed is None:
        return None
    uid, event, body, attempt, url, secret = claimed
    payload = body.encode()
    timestamp = int(time.time())  # the moment of sending, whatever `now` a test gives
    status, error = post(url, payload, headers(event=event, uid=uid, secret=secret,
                                               body=payload, timestamp=timestamp))
    return _finish(delivery_id, attempt, now, status, error)


def _due(now):
    return sa.or_(
        sa.and_(WebhookDelivery.state == DeliveryState.PENDING.value,
                WebhookDelivery.next_attempt_at <= now),
        sa.and_(WebhookDelivery.state == DeliveryState.SENDING.value,
                WebhookDelivery.last_attempt_at <= now - STALE_CLAIM))


def _claim(delivery_id, now):
    """Take the delivery's next attempt, committed at once; None if it is not due, its
    webhook is switched off, or another sender took it first."""
    active = sa.select(Webhook.id).where(Webhook.is_active.is_(True))
    taken = db.session.execute(
        sa.update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, _due(now),
               WebhookDelivery.webhook_id.in_(active))
        .values(state=DeliveryState.SENDING.value, attempts=WebhookDelivery.attempts + 1,
                last_attempt_at=now)
        .execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        db.session.rollback()
        return None
    claimed = db.session.execute(
        sa.select(WebhookDelivery.uid, WebhookDelivery.event, WebhookDelivery.body,
                  WebhookDelivery.attempts, Webhook.url, Webhook.secret)
        .join(Webhook).where(WebhookDelivery.id == delivery_id)).one()
    db.session.commit()
    return tuple(claimed)


def _finish(delivery_id, attempt, now, status, error):
    """Record the attempt's outcome: delivered, due again after the next pause of the
    schedule, or given up once the schedule is used up."""
    values = {"response_status": status, "error": error[:500] if error else None}
    if status is not None and 200 <= status < 300:
        state = DeliveryState.DELIVERED
        values.update(delivered_at=utcnow(), next_attempt_at=None)
    else:
        pauses = current_app.config["WEBHOOK_RETRY_SECONDS"]
        if attempt <= len(pauses):
            state = DeliveryState.PENDING
            values["next_attempt_at"] = now + timedelta(seconds=pauses[attempt - 1])
        else:
            state = DeliveryState.FAILED
            values["next_attempt_at"] = None
    written = db.session.execute(
        sa.update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id,
               WebhookDelivery.state == DeliveryState.SENDING.value,
               WebhookDelivery.attempts == attempt)
        .values(state=state.value, **values)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return state if written.rowcount == 1 else None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer like any other that is not 2xx: not followed."""

    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post(url, body, request_headers):
    """POST `body` to `url`: `(HTTP status, None)`, or `(None, why)` when there was no answer."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        return None, "only http and https addresses are called"
    if not current_app.config["WEBHOOK_ALLOW_LOCAL_NETWORK"] and _reaches_local_network(parts):
        return None, ("the address is in the local network, where webhooks are not sent "
                      "(WEBHOOK_ALLOW_LOCAL_NETWORK)")
    request = urllib.request.Request(url, data=body, headers=request_headers, method="POST")
    timeout = current_app.config["WEBHOOK_TIMEOUT_SECONDS"]
    try:
        with _opener.open(request, timeout=timeout) as response:
            # The status is the answer; a body is not waited for (one sent slowly, a byte at
            # a time, could hold the sender far beyond the timeout).
            return response.status, None
    except urllib.error.HTTPError as answer:
        answer.close()
        return answer.code, None
    except urllib.error.URLError as problem:
        return None, _reason(problem.reason)
    except (OSError, http.client.HTTPException, ValueError) as problem:
        return None, _reason(problem)


def is_local(host):
    """Whether `host` (a name or an address) is in the local network: loopback, a private,
    link-local, shared or reserved address, or a name for one (`localhost`). A name is not
    looked up here; the sender checks what it resolves to before it connects."""
    name = host.rstrip(".").lower()
    if name in ("localhost", "localhost.localdomain") or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return local_address(address)


def local_address(address):
    """Whether an `ipaddress` address is not a public one of the internet."""
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def _reaches_local_network(parts):
    """Whether the address's host is, or its name resolves to, a local one. (A name that
    resolves differently a moment later, when urllib connects, is not caught here.)"""
    host = parts.hostname or ""
    if is_local(host):
        return True
    try:
        found = socket.getaddrinfo(host, parts.port or 80, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False  # urllib meets the same and names it
    return any(local_address(ipaddress.ip_address(info[4][0].split("%")[0])) for info in found)


def _reason(problem):
    text = str(problem) or type(problem).__name__
    return text if isinstance(problem, str) else f"{type(problem).__name__}: {text}"


def send_soon(app, delivery_ids):
    """Send these deliveries now, in a thread of their own (the request does not wait)."""
    senders = app.extensions.setdefault("webhook_senders", [])
    senders[:] = [t for t in senders if t.is_alive()]
    thread = threading.Thread(target=_send, args=(app, list(delivery_ids)),
                              name="webhook-sender", daemon=True)
    senders.append(thread)
    thread.start()
    return thread


def wait_for_senders(app, timeout=30):
    """Wait until the background senders of `app` are done (for tests and the command)."""
    for thread in list(app.extensions.get("webhook_senders", [])):
        thread.join(timeout)


def _send(app, delivery_ids):
    with app.app_context():
        try:
            for delivery_id in delivery_ids:
                deliver(delivery_id)
        except Exception:
            # What was claimed is due again after STALE_CLAIM: `crm deliver-webhooks` sends it.
            log.exception("Sending webhook deliveries %s failed", delivery_ids)
            db.session.rollback()
        finally:
            db.session.remove()
