"""Events: delegation trips and the breakfasts, seminars and visits on them (or on their own)."""

from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.audit.models import FIELD_LABELS
from crm.core.countries import country_name
from crm.core.models import (
    AuthoredMixin,
    LabelledEnum,
    SoftDeleteMixin,
    TimestampMixin,
    VersionedMixin,
)
from crm.core.text import search_key, sort_key
from crm.extensions import db

COST_MAX_EUR = 100_000_000  # more than any trip costs; a larger figure is a typing error

# How the audit log names the cost; the other fields' labels are listed in crm/audit/models.py.
FIELD_LABELS.setdefault("cost_eur", _l("Cost (EUR)"))


class EventKind(LabelledEnum):
    """What sort of event it is. A delegation trip contains other events."""

    TRIP = "trip"
    BUSINESS_BREAKFAST = "business_breakfast"
    NETWORKING = "networking"
    INVESTOR_SEMINAR = "investor_seminar"
    COMPANY_VISIT = "company_visit"
    TRADE_FAIR = "trade_fair"
    RECEPTION = "reception"
    WEBINAR = "webinar"
    OTHER = "other"

    @classmethod
    def _labels(cls):
        return {
            cls.TRIP: _l("Delegation trip"),
            cls.BUSINESS_BREAKFAST: _l("Business breakfast"),
            cls.NETWORKING: _l("Networking event"),
            cls.INVESTOR_SEMINAR: _l("Investor seminar"),
            cls.COMPANY_VISIT: _l("Company visit"),
            cls.TRADE_FAIR: _l("Trade fair"),
            cls.RECEPTION: _l("Reception or dinner"),
            cls.WEBINAR: _l("Webinar"),
            cls.OTHER: _l("Other"),
        }


class AttendanceStatus(LabelledEnum):
    """How far a person's part in an event went."""

    INVITED = "invited"
    REGISTERED = "registered"
    ATTENDED = "attended"
    MET = "met"

    @classmethod
    def _labels(cls):
        return {
            cls.INVITED: _l("Invited"),
            cls.REGISTERED: _l("Registered"),
            cls.ATTENDED: _l("Attended"),
            cls.MET: _l("Met in person"),
        }


event_partners = sa.Table(
    "event_partners",
    db.metadata,
    sa.Column("event_id", sa.ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("organisation_id", sa.ForeignKey("organisations.id", ondelete="CASCADE"),
              primary_key=True, index=True),
)

event_team_members = sa.Table(
    "event_team_members",
    db.metadata,
    sa.Column("event_id", sa.ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True,
              index=True),
)


class Attendance(TimestampMixin, AuthoredMixin, db.Model):
    """A contact's part in an event: invited, registered, attended, or met in person."""

    __tablename__ = "attendances"
    __table_args__ = (sa.UniqueConstraint("event_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"),
                                          nullable=False)
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id", ondelete="CASCADE"),
                                            nullable=False, index=True)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False)

    event: Mapped["Event"] = relationship(back_populates="attendances")
    contact: Mapped["Contact"] = relationship("Contact")  # noqa: F821

    @property
    def status_enum(self):
        return AttendanceStatus(self.status)


class Event(TimestampMixin, AuthoredMixin, SoftDeleteMixin, VersionedMixin, db.Model):
    """A delegation trip, or an event within one or on its own."""

    __tablename__ = "events"
    __table_args__ = (
        sa.Index("ix_events_list", "deleted_at", "starts_on", "id"),
        sa.CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        sa.CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
        sa.CheckConstraint("cost_eur IS NULL OR cost_eur >= 0", name="cost_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    kind: Mapped[str] = mapped_column(sa.String(30), nullable=False, index=True)
    starts_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    ends_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    city: Mapped[str | None] = mapped_column(sa.String(200))
    country: Mapped[str | None] = mapped_column(sa.String(2), index=True)
    description: Mapped[str | None] = mapped_column(sa.Text)
    # What the trip or event cost the agency, in whole euros: for cost per lead and per job.
    cost_eur: Mapped[int | None] = mapped_column(sa.BigInteger)
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("events.id", ondelete="SET NULL"), index=True)
    name_sort: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    search_text: Mapped[str] = mapped_column(sa.Text, nullable=False)

    parent: Mapped["Event | None"] = relationship(remote_side=[id])
    partners: Mapped[list["Organisation"]] = relationship(  # noqa: F821
        "Organisation", secondary=event_partners, order_by="Organisation.name_sort")
    team_members: Mapped[list["User"]] = relationship(  # noqa: F821
        "User", secondary=event_team_members, order_by="User.name_sort")
    attendances: Mapped[list[Attendance]] = relationship(
        back_populates="event", cascade="all, delete-orphan")

    def __str__(self):
        return self.name

    @property
    def kind_enum(self):
        return EventKind(self.kind)

    @property
    def is_trip(self):
        return self.kind == EventKind.TRIP.value

    @property
    def country_name(self):
        return country_name(self.country)

    def derive_keys(self):
        """Refresh the keys kept beside the name; the services call it after every change."""
        self.name_sort = sort_key(self.name)[:300]
        self.search_text = search_key(self.name, self.city)
