"""The messages of a lead's changes, written in the transaction of the change (an outbox).

Every change of a lead's stage or status, and its creation, writes a `StageChange` row (see
`crm.leads.services`): that row is the event. When the transaction commits, each new row
becomes one delivery per active webhook that chose its event, written in the same
transaction, so a change rolled back sends nothing and a committed one is never lost. Once
the commit is through, the deliveries are sent at once in the background
(`delivery.send_soon`); what does not get through is sent again by `crm deliver-webhooks`.

The listeners are registered once (`watch`), for every session of the process: whatever
changes a lead (a page, the API, a command, a test), its webhooks hear of it.
"""

import json
import uuid

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from crm.api.leads import lead_json
from crm.leads.models import StageChange
from crm.webhooks.delivery import send_soon
from crm.webhooks.models import DeliveryState, Webhook, WebhookDelivery, WebhookEvent

# Keys in `session.info`: the changes of the transaction not yet written as deliveries, the
# deliveries to send once it is committed, and whether the transaction ending was committed.
_CHANGES = "webhooks.changes"
_TO_SEND = "webhooks.to_send"
_COMMITTED = "webhooks.committed"
# What a receiver learns of a confidential lead: that it moved, not what it is.
CONFIDENTIAL_FIELDS = ("id", "stage", "status", "is_confidential")


def watch():
    """Listen for lead changes and commits (once per process, however many apps are made)."""
    if event.contains(StageChange, "after_insert", _note_change):
        return
    event.listen(StageChange, "after_insert", _note_change)
    event.listen(Session, "before_commit", _write_deliveries)
    event.listen(Session, "after_commit", _note_commit)
    event.listen(Session, "after_transaction_end", _end_transaction)


def send_after_commit(session, delivery_ids):
    """Send these deliveries in the background once the current transaction is committed."""
    session.info.setdefault(_TO_SEND, []).extend(delivery_ids)


def events_of(change):
    """The webhook events a stage change row stands for: a new lead, a new stage, a new
    status (a move to `won` is both a new stage and a new status)."""
    if change.from_stage is None:
        return [WebhookEvent.LEAD_CREATED]
    found = []
    if change.from_stage != change.to_stage:
        found.append(WebhookEvent.LEAD_STAGE_CHANGED)
    if change.from_status != change.to_status:
        found.append(WebhookEvent.LEAD_STATUS_CHANGED)
    return found


def lead_data(lead):
    """The lead as the API shows it; of a confidential lead only that it exists and where it
    stands, because a receiver is outside the CRM's rules of who may see it."""
    values = lead_json(lead)
    if lead.is_confidential:
        return {field: values[field] for field in CONFIDENTIAL_FIELDS}
    return values


def message(event_, change, lead, uid):
    """The JSON body of one delivery (`uid` is its id)."""
    previous = None
    if event_ == WebhookEvent.LEAD_STAGE_CHANGED:
        previous = {"stage": change.from_stage}
    elif event_ == WebhookEvent.LEAD_STATUS_CHANGED:
        previous = {"status": change.from_status}
    return {"id": uid, "event": event_.value, "occurred_at": change.changed_at.isoformat(),
            "data": {"lead": lead_data(lead), "previous": previous}}


def encode(body):
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def _note_change(_mapper, _connection, change):
    sa.orm.object_session(change).info.setdefault(_CHANGES, []).append(change)


def _write_deliveries(session):
    """Turn the transaction's changes into deliveries, before it commits.

    SQLAlchemy calls this also when a savepoint is released, and before the commit's last
    flush: a savepoint's changes wait for the transaction (a savepoint around it may still be
    rolled back, taking delivery rows written now along), and what waits to be flushed is
    flushed first, so that its changes are among them. Changes undone with a savepoint are
    gone from the session by now and send nothing."""
    if session.in_nested_transaction():
        return
    session.flush()
    changes = [c for c in session.info.pop(_CHANGES, []) if sa.inspect(c).persistent]
    if not changes:
        return
    webhooks = session.scalars(sa.select(Webhook).where(Webhook.is_active.is_(True))
                               .order_by(Webhook.id)).all()
    deliveries = []
    for change in changes:
        for event_ in events_of(change):
            for webhook in (w for w in webhooks if event_.value in w.events):
                uid = str(uuid.uuid4())
                body = encode(message(event_, change, change.lead, uid))
                deliveries.append(WebhookDelivery(
                    uid=uid, webhook_id=webhook.id, event=event_.value, lead_id=change.lead_id,
                    body=body, state=DeliveryState.PENDING.value, attempts=0,
                    next_attempt_at=change.changed_at))
    if deliveries:
        session.add_all(deliveries)
        session.flush()
        send_after_commit(session, [d.id for d in deliveries])


def _note_commit(session):
    session.info[_COMMITTED] = True


def _end_transaction(session, transaction):
    """After the outermost transaction: send what it wrote if it was committed, and forget
    it either way. (A savepoint's end keeps them for its transaction.)"""
    committed = session.info.pop(_COMMITTED, False)
    if transaction.parent is not None:
        return
    to_send = session.info.pop(_TO_SEND, None)
    session.info.pop(_CHANGES, None)
    if committed and to_send and has_app_context():
        send_soon(current_app._get_current_object(), to_send)
