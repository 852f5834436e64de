"""Webhooks (addresses that receive a signed message when a lead changes) and their deliveries."""

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from crm.core.models import (
    AuthoredMixin,
    LabelledEnum,
    TimestampMixin,
    UTCDateTime,
    VersionedMixin,
    utcnow,
)
from crm.extensions import db


class WebhookEvent(LabelledEnum):
    """What a webhook can be told of."""

    LEAD_CREATED = "lead.created"
    LEAD_STAGE_CHANGED = "lead.stage_changed"
    LEAD_STATUS_CHANGED = "lead.status_changed"

    @classmethod
    def _labels(cls):
        return {cls.LEAD_CREATED: _l("A lead is created"),
                cls.LEAD_STAGE_CHANGED: _l("A lead changes stage"),
                cls.LEAD_STATUS_CHANGED: _l("A lead changes status")}


class DeliveryState(LabelledEnum):
    """Where a delivery is: waiting for its (next) attempt, being sent, done, or given up."""

    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"

    @classmethod
    def _labels(cls):
        return {cls.PENDING: _l("waiting"), cls.SENDING: _l("being sent"),
                cls.DELIVERED: _l("delivered"), cls.FAILED: _l("failed")}


class Webhook(TimestampMixin, AuthoredMixin, VersionedMixin, db.Model):
    """An address of another program that receives a signed JSON message on the events it
    chose. The secret is the key of the signature (HMAC): it is kept as it is, because
    signing needs it, and shown to the admin only when it is made."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(sa.String(2000), nullable=False)
    description: Mapped[str | None] = mapped_column(sa.String(300))
    events: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    secret: Mapped[str] = mapped_column(sa.String(100), nullable=False)

    deliveries: Mapped[list["WebhookDelivery"]] = relationship(
        back_populates="webhook", cascade="all, delete-orphan", passive_deletes=True,
        lazy="raise")
    # Filled by `queries.webhook_list` for the list page.
    last_delivery_at: Mapped[datetime | None] = query_expression()
    last_delivery_state: Mapped[str | None] = query_expression()
    failed_count: Mapped[int | None] = query_expression()

    def __str__(self):
        return self.url[:300]

    @property
    def last_delivery_label(self):
        return DeliveryState(self.last_delivery_state).label if self.last_delivery_state else ""

    @property
    def event_labels(self):
        return [WebhookEvent(e).label for e in WebhookEvent if e.value in self.events]


class WebhookDelivery(db.Model):
    """One message to one webhook, written in the transaction of the change it reports (an
    outbox): sent after the commit, tried again with back-off until it is received or given
    up. `body` is the exact JSON sent each time; `uid` is the delivery's id in the message."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The deliveries due, for `crm deliver-webhooks`; a webhook's latest, for its page.
        sa.Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
        sa.Index("ix_webhook_deliveries_webhook", "webhook_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(sa.String(36), nullable=False, unique=True)
    webhook_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False)
    event: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    lead_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("leads.id", ondelete="SET NULL"), index=True)
    body: Mapped[str] = mapped_column(sa.Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    state: Mapped[str] = mapped_column(sa.String(10), nullable=False,
                                       default=DeliveryState.PENDING.value)
    # Attempts made so far; a sender claims an attempt by raising it (see delivery.claim).
    attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last attempt's answer: its HTTP status, or why there was none.
    response_status: Mapped[int | None] = mapped_column(sa.Integer)
    error: Mapped[str | None] = mapped_column(sa.String(500))

    webhook: Mapped[Webhook] = relationship(back_populates="deliveries")
    lead: Mapped["Lead | None"] = relationship("Lead")  # noqa: F821

    @property
    def state_enum(self):
        return DeliveryState(self.state)

    @property
    def event_label(self):
        return WebhookEvent(self.event).label
