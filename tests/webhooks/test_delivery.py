"""Messages of lead changes reach a real receiver on 127.0.0.1, signed; failures are tried
again with back-off; nothing is sent for a change rolled back, nor twice."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from crm.api.leads import lead_json
from crm.core.models import utcnow
from crm.extensions import db
from crm.leads import services as lead_services
from crm.leads.models import StageChange
from crm.webhooks import delivery
from crm.webhooks.models import WebhookDelivery
from tests.factories import PROSPECT_FIELDS, make_lead, make_token, make_user


def verify(message, secret):
    """What a receiver does (as in the README): check the signature over timestamp and body."""
    timestamp = message.headers["X-Lotse-Timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + message.body,
                        hashlib.sha256).hexdigest()
    return hmac.compare_digest(message.headers["X-Lotse-Signature"], f"sha256={expected}")


def only_message(receiver):
    messages = receiver.messages()
    assert len(messages) == 1, messages
    return messages[0]


def test_a_new_lead_is_sent_signed_with_the_headers_and_the_api_shape(app, receiver,
                                                                      make_webhook, settle):
    _webhook, secret = make_webhook(receiver.url)
    lead = make_lead(title="Mobis Erweiterung Erfurt")
    [sent] = settle()
    message = only_message(receiver)
    assert message.path == "/hooks/lotse"
    assert verify(message, secret)
    assert not verify(message, "another secret")
    headers = message.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "Lotse-Webhooks/1"
    assert headers["X-Lotse-Event"] == "lead.created"
    assert headers["X-Lotse-Delivery"] == sent.uid
    assert abs(int(headers["X-Lotse-Timestamp"]) - utcnow().timestamp()) < 60
    body = message.json
    assert body["id"] == sent.uid and body["event"] == "lead.created"
    assert body["occurred_at"].endswith("+00:00")
    assert body["data"]["previous"] is None
    assert body["data"]["lead"] == json.loads(json.dumps(lead_json(db.session.get(
        type(lead), lead.id))))
    assert body["data"]["lead"]["title"] == "Mobis Erweiterung Erfurt"
    assert (sent.state, sent.attempts, sent.response_status, sent.error) == (
        "delivered", 1, 200, None)
    assert sent.delivered_at is not None and sent.lead_id == lead.id


def test_a_stage_change_through_the_service_is_sent(app, receiver, make_webhook, settle):
    _webhook, secret = make_webhook(receiver.url, events=["lead.stage_changed"])
    lead = make_lead(**PROSPECT_FIELDS)
    assert settle() == [] and receiver.messages() == []  # not subscribed to lead.created
    lead_services.change_stage(lead, "prospect", actor=None)
    db.session.commit()
    settle()
    message = only_message(receiver)
    assert verify(message, secret)
    assert message.headers["X-Lotse-Event"] == "lead.stage_changed"
    assert message.json["data"]["previous"] == {"stage": "lead"}
    assert message.json["data"]["lead"]["stage"] == "prospect"


def test_a_stage_change_through_the_api_is_sent(app, receiver, make_webhook, settle):
    _webhook, secret = make_webhook(receiver.url, events=["lead.stage_changed"])
    manager = make_user(role="manager")
    _token, plaintext = make_token(manager)
    lead = make_lead(**PROSPECT_FIELDS)
    response = app.test_client().post(f"/api/v1/leads/{lead.id}/stage",
                                      json={"stage": "prospect"},
                                      headers={"Authorization": f"Bearer {plaintext}"})
    assert response.status_code == 200, response.get_json()
    [sent] = settle()
    message = only_message(receiver)
    assert verify(message, secret)
    assert message.json["event"] == "lead.stage_changed"
    assert message.json["data"]["lead"]["id"] == lead.id
    assert message.json["data"]["lead"]["version"] == response.get_json()["version"]
    assert sent.state == "delivered"


def test_a_status_change_is_sent_with_the_previous_status(app, receiver, make_webhook, settle):
    _webhook, secret = make_webhook(receiver.url, events=["lead.status_changed"])
    lead = make_lead()
    lead_services.change_status(lead, "delayed", actor=None)
    db.session.commit()
    settle()
    message = only_message(receiver)
    assert verify(message, secret)
    assert message.json["event"] == "lead.status_changed"
    assert message.json["data"]["previous"] == {"status": "ongoing"}
    assert message.json["data"]["lead"]["status"] == "delayed"


def test_a_failed_attempt_is_tried_again_after_the_pause_and_then_delivered(
        app, receiver, make_webhook, settle):
    make_webhook(receiver.url)
    receiver.answers = [500]
    before = utcnow()
    make_lead()
    [waiting] = settle()
    assert (waiting.state, waiting.attempts, waiting.response_status) == ("pending", 1, 500)
    # The first pause of the schedule: one minute after the attempt.
    assert timedelta(seconds=59) <= waiting.next_attempt_at - before <= timedelta(seconds=65)
    early = delivery.deliver_due(now=waiting.next_attempt_at - timedelta(seconds=1))
    assert (early.delivered, early.retrying, early.failed) == (0, 0, 0)  # not due yet
    first = only_message(receiver)
    outcome = delivery.deliver_due(now=waiting.next_attempt_at)
    assert (outcome.delivered, outcome.retrying, outcome.failed) == (1, 0, 0)
    [done] = settle()
    assert (done.state, done.attempts, done.response_status, done.next_attempt_at) == (
        "delivered", 2, 200, None)
    second = only_message(receiver)
    assert second.body == first.body  # the same message, the same delivery id
    assert second.headers["X-Lotse-Delivery"] == first.headers["X-Lotse-Delivery"]


def test_the_pauses_follow_the_schedule_until_the_delivery_is_given_up(
        app_factory, tmp_path):
    from tests.webhooks.conftest import Receiver

    app = app_factory(WEBHOOK_RETRY_SECONDS=[60, 300])
    with app.app_context():
        server = Receiver()
        try:
            server.answers = [503, 503, 503]
            from crm.webhooks import services

            services.create_webhook({"url": server.url, "events": ["lead.created"],
                                     "is_active": True}, actor=None)
            db.session.commit()
            make_lead()
            delivery.wait_for_senders(app)
            db.session.rollback()
            row = db.session.scalar(sa.select(WebhookDelivery))
            first = row.next_attempt_at
            assert row.last_attempt_at + timedelta(seconds=60) == first
            delivery.deliver_due(now=first)
            db.session.refresh(row)
            assert (row.state, row.attempts) == ("pending", 2)
            assert row.next_attempt_at == first + timedelta(seconds=300)
            outcome = delivery.deliver_due(now=row.next_attempt_at)
            assert outcome.failed == 1
            db.session.refresh(row)
            assert (row.state, row.attempts, row.next_attempt_at, row.response_status) == (
                "failed", 3, None, 503)
            assert delivery.deliver_due(now=utcnow() + timedelta(days=30)).failed == 0
            assert server.received.qsize() == 3
        finally:
            delivery.wait_for_senders(app)
            server.close()
            db.session.remove()


def test_a_change_rolled_back_sends_nothing(app, receiver, make_webhook, settle):
    make_webhook(receiver.url)
    lead = make_lead()
    settle()
    only_message(receiver)
    lead_services.change_status(lead, "delayed", actor=None)
    make_lead(commit=False)
    db.session.flush()  # written, then undone
    db.session.rollback()
    assert len(settle()) == 1  # the first lead's message only
    assert receiver.messages() == []
    # The next transaction does not carry the undone changes along.
    make_user()
    assert len(settle()) == 1 and receiver.messages() == []


def test_a_change_outside_a_savepoint_that_is_undone_is_still_sent(app, receiver, make_webhook,
                                                                   settle):
    """Releasing a savepoint writes no delivery yet: were it written inside a savepoint that is
    rolled back afterwards, the committed change would lose its message."""
    make_webhook(receiver.url, events=["lead.status_changed"])
    lead, other = make_lead(), make_lead()
    lead_services.change_status(lead, "delayed", actor=None)
    outer = db.session.begin_nested()
    inner = db.session.begin_nested()
    lead_services.change_status(other, "delayed", actor=None)
    inner.commit()
    outer.rollback()  # takes the other lead's change along, not the first one's
    db.session.commit()
    [sent] = settle()
    message = only_message(receiver)
    assert sent.lead_id == lead.id and message.json["data"]["lead"]["id"] == lead.id


def test_a_change_not_yet_flushed_at_the_commit_is_sent(app, receiver, make_webhook, settle):
    """The commit flushes after asking for its deliveries: a change still waiting to be
    flushed is flushed first, so that its message is written with it."""
    make_webhook(receiver.url, events=["lead.status_changed"])
    lead = make_lead()
    lead.status = "delayed"
    db.session.add(StageChange(lead=lead, from_stage="lead", to_stage="lead",
                               from_status="ongoing", to_status="delayed"))
    db.session.commit()  # no flush before
    [sent] = settle()
    assert sent.event == "lead.status_changed"
    assert only_message(receiver).json["data"]["lead"]["status"] == "delayed"


def test_a_move_refused_inside_a_change_sends_nothing_of_it(app, receiver, make_webhook, settle):
    """A stage refused within `create_lead` undoes its savepoint: neither the lead nor its
    message exist."""
    make_webhook(receiver.url)
    with pytest.raises(lead_services.StageRefused):
        make_lead(stage="active")
    db.session.commit()
    assert settle() == [] and receiver.messages() == []


def test_a_confidential_lead_is_sent_without_its_title_or_figures(app, receiver, make_webhook,
                                                                 settle):
    _webhook, secret = make_webhook(receiver.url)
    lead = make_lead(title="Geheimprojekt Halbleiter", is_confidential=True, capex_eur=7_000_000)
    settle()
    message = only_message(receiver)
    assert verify(message, secret)
    assert message.json["data"]["lead"] == {"id": lead.id, "stage": "lead", "status": "ongoing",
                                            "is_confidential": True}
    assert b"Geheimprojekt" not in message.body and b"7000000" not in message.body


def test_an_inactive_webhook_and_one_not_subscribed_get_nothing(app, receiver, make_webhook,
                                                               settle):
    make_webhook(receiver.url, is_active=False)
    make_webhook(receiver.url, events=["lead.status_changed"])
    make_lead()
    assert settle() == []
    assert receiver.messages() == []


def test_a_move_to_won_is_a_stage_and_a_status_change(app, receiver, make_webhook, settle):
    from tests.factories import DECISION_FIELDS

    make_webhook(receiver.url, events=["lead.stage_changed", "lead.status_changed"])
    owner, manager = make_user(role="manager"), make_user(role="manager")
    lead = make_lead(actor=owner, owner_id=owner.id, **DECISION_FIELDS)
    for stage in ("prospect", "active", "decision"):
        lead_services.change_stage(lead, stage, actor=owner)
    db.session.commit()
    settle()
    receiver.messages()
    lead_services.change_stage(lead, "won", actor=manager)
    db.session.commit()
    settle()
    events = sorted((m.json["event"], json.dumps(m.json["data"]["previous"]))
                    for m in receiver.messages())
    assert events == [("lead.stage_changed", '{"stage": "decision"}'),
                      ("lead.status_changed", '{"status": "ongoing"}')]


def test_two_senders_never_send_one_delivery_twice(app, receiver, make_webhook, settle):
    make_webhook(receiver.url)
    receiver.answers = [500]
    make_lead()
    [row] = settle()
    receiver.messages()
    due = row.next_attempt_at
    assert delivery.deliver(row.id, now=due) == "delivered"
    assert delivery.deliver(row.id, now=due) is None
    assert delivery.deliver_due(now=due + timedelta(days=1)).delivered == 0
    assert len(receiver.messages()) == 1


def test_a_claim_of_a_sender_that_ended_is_taken_over_later(app, receiver, make_webhook,
                                                            settle):
    make_webhook(receiver.url)
    receiver.answers = [500]
    make_lead()
    [row] = settle()
    # A sender claims the attempt and ends before it sends (its process was killed).
    assert delivery._claim(row.id, row.next_attempt_at) is not None
    assert delivery.deliver(row.id, now=row.next_attempt_at) is None
    later = row.next_attempt_at + delivery.STALE_CLAIM
    assert delivery.deliver(row.id, now=later) == "delivered"
    [done] = settle()
    assert done.attempts == 3


def test_a_redirect_is_not_followed_and_an_unreachable_receiver_is_named(
        app, receiver, make_webhook, settle):
    make_webhook(receiver.url)
    closed = receiver.url.replace(str(receiver.server.server_port), "9")
    make_webhook(closed, events=["lead.created"])
    receiver.answers = [302]
    make_lead()
    redirected, unreachable = settle()
    assert (redirected.state, redirected.response_status) == ("pending", 302)
    assert len(receiver.messages()) == 1  # /elsewhere was not asked
    assert unreachable.state == "pending" and unreachable.response_status is None
    assert "refused" in unreachable.error.lower()


def test_the_command_sends_what_is_due(app, receiver, make_webhook, settle):
    make_webhook(receiver.url)
    receiver.answers = [500]
    make_lead()
    [row] = settle()
    row.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["crm", "deliver-webhooks"])
    assert result.exit_code == 0, result.output
    assert "1 delivered, 0 to be tried again later, 0 given up." in result.output
    [done] = settle()
    assert done.state == "delivered"
    assert app.test_cli_runner().invoke(args=["crm", "deliver-webhooks"]).output.startswith(
        "0 delivered")
