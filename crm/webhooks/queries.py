"""Read-only questions about webhooks, for the admin pages: each list in one select."""

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, with_expression

from crm.webhooks.models import DeliveryState, Webhook, WebhookDelivery


def _of_webhook():
    return WebhookDelivery.webhook_id == Webhook.id


def webhook_list():
    """The webhooks, oldest first, each with its latest delivery's time and state and its
    number of deliveries given up."""
    def of_latest(column):
        # Along the index (webhook_id, id): the last row of the webhook's deliveries.
        return (sa.select(column).where(_of_webhook()).order_by(WebhookDelivery.id.desc())
                .limit(1).correlate(Webhook).scalar_subquery())

    failed = (sa.select(sa.func.count(WebhookDelivery.id))
              .where(_of_webhook(), WebhookDelivery.state == DeliveryState.FAILED.value)
              .correlate(Webhook).scalar_subquery())
    return (sa.select(Webhook)
            .options(with_expression(Webhook.last_delivery_at,
                                     of_latest(WebhookDelivery.created_at)),
                     with_expression(Webhook.last_delivery_state,
                                     of_latest(WebhookDelivery.state)),
                     with_expression(Webhook.failed_count, failed))
            .order_by(Webhook.id))


def deliveries_of(webhook):
    """The webhook's deliveries, newest first, with their leads."""
    return (sa.select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
            .options(joinedload(WebhookDelivery.lead))
            .order_by(WebhookDelivery.id.desc()))
