"""Investor leads: a company that may invest in the region, followed through the pipeline."""

from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.countries import country_name
from crm.core.models import (
    AuthoredMixin,
    LabelledEnum,
    SoftDeleteMixin,
    TimestampMixin,
    UTCDateTime,
    VersionedMixin,
    live_index,
    utcnow,
)
from crm.core.text import search_key, sort_key
from crm.extensions import db
from crm.organisations.models import Sector


class Stage(LabelledEnum):
    """How far a lead has come; stages follow each other in this order."""

    LEAD = "lead"
    PROSPECT = "prospect"
    ACTIVE = "active"
    DECISION = "decision"
    WON = "won"

    @classmethod
    def _labels(cls):
        return {cls.LEAD: _l("Lead"), cls.PROSPECT: _l("Prospect"), cls.ACTIVE: _l("Active"),
                cls.DECISION: _l("Decision"), cls.WON: _l("Won")}

    @property
    def position(self):
        return list(Stage).index(self)


class Status(LabelledEnum):
    """How a lead is doing, apart from its stage. A lost lead keeps the stage it reached."""

    ONGOING = "ongoing"
    DELAYED = "delayed"
    DORMANT = "dormant"
    LOST = "lost"
    ABANDONED = "abandoned"
    WON = "won"

    @classmethod
    def _labels(cls):
        return {cls.ONGOING: _l("Ongoing"), cls.DELAYED: _l("Delayed"),
                cls.DORMANT: _l("Dormant"), cls.LOST: _l("Lost"),
                cls.ABANDONED: _l("Abandoned"), cls.WON: _l("Won")}

    @property
    def is_open(self):
        return self in (Status.ONGOING, Status.DELAYED, Status.DORMANT)


class InvestmentType(LabelledEnum):
    GREENFIELD = "greenfield"
    EXPANSION = "expansion"
    ACQUISITION = "acquisition"
    JOINT_VENTURE = "joint_venture"
    RND_CENTRE = "rnd_centre"
    RETENTION = "retention"

    @classmethod
    def _labels(cls):
        return {cls.GREENFIELD: _l("New settlement (greenfield)"),
                cls.EXPANSION: _l("Expansion"), cls.ACQUISITION: _l("Acquisition"),
                cls.JOINT_VENTURE: _l("Joint venture"), cls.RND_CENTRE: _l("R&D centre"),
                cls.RETENTION: _l("Retention")}


class BusinessActivity(LabelledEnum):
    MANUFACTURING = "manufacturing"
    RESEARCH = "research"
    HEADQUARTERS = "headquarters"
    SALES = "sales"
    LOGISTICS = "logistics"
    SHARED_SERVICES = "shared_services"
    OTHER = "other"

    @classmethod
    def _labels(cls):
        return {cls.MANUFACTURING: _l("Manufacturing"), cls.RESEARCH: _l("Research and development"),
                cls.HEADQUARTERS: _l("Headquarters"), cls.SALES: _l("Sales and service"),
                cls.LOGISTICS: _l("Logistics and distribution"),
                cls.SHARED_SERVICES: _l("Shared services"), cls.OTHER: _l("Other")}


class Likelihood(LabelledEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @classmethod
    def _labels(cls):
        return {cls.LOW: _l("Low"), cls.MEDIUM: _l("Medium"), cls.HIGH: _l("High")}


class LeadSource(LabelledEnum):
    EVENT = "event"
    TRIP = "trip"
    PARTNER_REFERRAL = "partner_referral"
    INBOUND = "inbound"
    EXISTING_INVESTOR = "existing_investor"
    OTHER = "other"

    @classmethod
    def _labels(cls):
        return {cls.EVENT: _l("Event"), cls.TRIP: _l("Delegation trip"),
                cls.PARTNER_REFERRAL: _l("Partner referral"), cls.INBOUND: _l("Inbound enquiry"),
                cls.EXISTING_INVESTOR: _l("Existing investor"), cls.OTHER: _l("Other")}


lead_contacts = sa.Table(
    "lead_contacts",
    db.metadata,
    sa.Column("lead_id", sa.ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("contact_id", sa.ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True,
              index=True),
)

lead_team_members = sa.Table(
    "lead_team_members",
    db.metadata,
    sa.Column("lead_id", sa.ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True,
              index=True),
)


# What the board reads of every lead: its cards' order and its totals.
BOARD_COLUMNS = ("stage", "capex_eur", "id", "status", "new_jobs", "likelihood",
                 "is_confidential", "owner_id", "deleted_at")


class Lead(TimestampMixin, AuthoredMixin, SoftDeleteMixin, VersionedMixin, db.Model):
    """An investor lead, growing into an investment project: what, who, how far, how much."""

    __tablename__ = "leads"
    __table_args__ = (
        # A stage's most valuable open leads, and the board's totals per stage, read from the
        # index alone (with deleted_at, which SQLite does not take from the index's condition).
        live_index("ix_leads_board", *BOARD_COLUMNS),
        live_index("ix_leads_recent", "updated_at", "id"),
        # The team's usual filter (a sector, often with a stage), newest first.
        live_index("ix_leads_sector_stage", "sector", "stage", "updated_at"),
        sa.CheckConstraint("capex_eur IS NULL OR capex_eur >= 0", name="capex_not_negative"),
        sa.CheckConstraint("new_jobs IS NULL OR new_jobs >= 0", name="new_jobs_not_negative"),
        sa.CheckConstraint("safeguarded_jobs IS NULL OR safeguarded_jobs >= 0",
                           name="safeguarded_jobs_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=False, index=True)
    stage: Mapped[str] = mapped_column(sa.String(20), nullable=False, default=Stage.LEAD.value)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False,
                                        default=Status.ONGOING.value)
    stage_entered_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False,
                                                       default=utcnow)
    # When the latest (not deleted) activity on the lead happened, kept by the activity
    # services: the stalled leads are those quiet since a day, found without their activities.
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    sector: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    country: Mapped[str | None] = mapped_column(sa.String(2), index=True)
    investment_type: Mapped[str | None] = mapped_column(sa.String(30))
    business_activity: Mapped[str | None] = mapped_column(sa.String(30))
    is_new_investor: Mapped[bool | None] = mapped_column(sa.Boolean)
    description: Mapped[str | None] = mapped_column(sa.Text)
    # Planned figures; each may be an estimate, or unknown because the client cannot say.
    capex_eur: Mapped[int | None] = mapped_column(sa.BigInteger)
    capex_is_estimate: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    capex_unknown: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    new_jobs: Mapped[int | None] = mapped_column(sa.Integer)
    new_jobs_is_estimate: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    new_jobs_unknown: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    safeguarded_jobs: Mapped[int | None] = mapped_column(sa.Integer)
    safeguarded_jobs_is_estimate: Mapped[bool] = mapped_column(sa.Boolean, nullable=False,
                                                               default=False)
    safeguarded_jobs_unknown: Mapped[bool] = mapped_column(sa.Boolean, nullable=False,
                                                           default=False)
    # Realised figures, known after the investment.
    realised_capex_eur: Mapped[int | None] = mapped_column(sa.BigInteger)
    realised_new_jobs: Mapped[int | None] = mapped_column(sa.Integer)
    realised_safeguarded_jobs: Mapped[int | None] = mapped_column(sa.Integer)
    likelihood: Mapped[str | None] = mapped_column(sa.String(10))
    expected_decision_on: Mapped[date | None] = mapped_column(sa.Date, index=True)
    candidate_sites: Mapped[str | None] = mapped_column(sa.Text)
    competing_locations: Mapped[str | None] = mapped_column(sa.Text)
    chosen_site: Mapped[str | None] = mapped_column(sa.String(300))
    decided_on: Mapped[date | None] = mapped_column(sa.Date)
    source: Mapped[str | None] = mapped_column(sa.String(30))
    source_event_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("events.id", ondelete="SET NULL"), index=True)
    referral_partner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="SET NULL"), index=True)
    is_confidential: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    lost_reason: Mapped[str | None] = mapped_column(sa.Text)
    closed_on: Mapped[date | None] = mapped_column(sa.Date)
    lost_to: Mapped[str | None] = mapped_column(sa.String(200))
    won_confirmed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    won_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Kept beside the title by derive_keys(): German sorting and folded search.
    title_sort: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    search_text: Mapped[str] = mapped_column(sa.Text, nullable=False)

    organisation: Mapped["Organisation"] = relationship(  # noqa: F821
        "Organisation", foreign_keys=[organisation_id], lazy="joined")
    owner: Mapped["User | None"] = relationship("User", foreign_keys=[owner_id])  # noqa: F821
    won_confirmed_by: Mapped["User | None"] = relationship(  # noqa: F821
        "User", foreign_keys=[won_confirmed_by_id])
    source_event: Mapped["Event | None"] = relationship("Event")  # noqa: F821
    referral_partner: Mapped["Organisation | None"] = relationship(  # noqa: F821
        "Organisation", foreign_keys=[referral_partner_id])
    contacts: Mapped[list["Contact"]] = relationship(  # noqa: F821
        "Contact", secondary=lead_contacts, order_by="Contact.name_sort")
    team_members: Mapped[list["User"]] = relationship(  # noqa: F821
        "User", secondary=lead_team_members, order_by="User.name_sort")
    stage_changes: Mapped[list["StageChange"]] = relationship(
        back_populates="lead", order_by="StageChange.id", cascade="all, delete-orphan")

    def __str__(self):
        return self.title

    @property
    def stage_enum(self):
        return Stage(self.stage)

    @property
    def status_enum(self):
        return Status(self.status)

    @property
    def country_name(self):
        return country_name(self.country)

    @property
    def days_in_stage(self):
        return (utcnow() - self.stage_entered_at).days

    def label_of(self, field):
        """The translated label of an enumerated field's value, or "–"."""
        value = getattr(self, field)
        return _ENUMS[field](value).label if value else "–"

    def derive_keys(self):
        """Refresh the keys kept beside the title; the services call it after every change."""
        self.title_sort = sort_key(self.title)[:300]
        organisation = self.organisation.name if self.organisation is not None else ""
        self.search_text = search_key(self.title, organisation, self.chosen_site)


class StageChange(db.Model):
    """One move of a lead between stages or statuses: time in stage and conversion come from it.

    Each new row is also an event for the webhooks (see `crm.webhooks.outbox`)."""

    __tablename__ = "stage_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(sa.ForeignKey("leads.id", ondelete="CASCADE"),
                                         nullable=False, index=True)
    from_stage: Mapped[str | None] = mapped_column(sa.String(20))
    to_stage: Mapped[str] = mapped_column(sa.String(20), nullable=False, index=True)
    from_status: Mapped[str | None] = mapped_column(sa.String(20))
    to_status: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow,
                                                 index=True)
    changed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    # Set when a manager moved the lead although the stage's requirements were not met.
    override_reason: Mapped[str | None] = mapped_column(sa.Text)

    lead: Mapped[Lead] = relationship(back_populates="stage_changes")
    changed_by: Mapped["User | None"] = relationship("User")  # noqa: F821

    @property
    def is_stage_move(self):
        return self.from_stage != self.to_stage

    def label_of(self, field):
        value = getattr(self, field)
        enum = Stage if field.endswith("stage") else Status
        return enum(value).label if value else ""


_ENUMS = {"sector": Sector, "investment_type": InvestmentType,
          "business_activity": BusinessActivity, "likelihood": Likelihood, "source": LeadSource,
          "stage": Stage, "status": Status}
