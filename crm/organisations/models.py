"""Organisations: investor companies, partners, universities, public bodies, chambers."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.countries import country_name
from crm.core.models import (
    AuthoredMixin,
    LabelledEnum,
    SoftDeleteMixin,
    TimestampMixin,
    VersionedMixin,
    bin_index,
    live_index,
)
from crm.core.text import organisation_match_key, search_key, sort_key
from crm.extensions import db


class OrganisationKind(LabelledEnum):
    """What sort of body an organisation is."""

    INVESTOR = "investor"
    PARTNER = "partner"
    UNIVERSITY = "university"
    PUBLIC_BODY = "public_body"
    CHAMBER = "chamber"
    OTHER = "other"

    @classmethod
    def _labels(cls):
        return {
            cls.INVESTOR: _l("Investor company"),
            cls.PARTNER: _l("Partner organisation"),
            cls.UNIVERSITY: _l("University or research institute"),
            cls.PUBLIC_BODY: _l("Public body or city"),
            cls.CHAMBER: _l("Chamber or association"),
            cls.OTHER: _l("Other"),
        }


class Sector(LabelledEnum):
    """The industries the agency works with; organisations and leads use the same list."""

    AUTOMOTIVE = "automotive"
    OPTICS_PHOTONICS = "optics_photonics"
    SENSORS = "sensors"
    ELECTRONICS = "electronics"
    EMOBILITY_BATTERIES = "emobility_batteries"
    SMART_MANUFACTURING = "smart_manufacturing"
    LIFE_SCIENCES = "life_sciences"
    BIOTECHNOLOGY = "biotechnology"
    MEDICAL_TECHNOLOGY = "medical_technology"
    AI_DIGITAL = "ai_digital"
    ECOMMERCE = "ecommerce"
    MACHINERY = "machinery"
    PLASTICS_CHEMICALS = "plastics_chemicals"
    ENERGY = "energy"
    LOGISTICS = "logistics"
    FOOD = "food"
    SERVICES = "services"
    OTHER = "other"

    @classmethod
    def _labels(cls):
        return {
            cls.AUTOMOTIVE: _l("Automotive"),
            cls.OPTICS_PHOTONICS: _l("Optics and photonics"),
            cls.SENSORS: _l("Sensors"),
            cls.ELECTRONICS: _l("Electronics and microelectronics"),
            cls.EMOBILITY_BATTERIES: _l("E-mobility and batteries"),
            cls.SMART_MANUFACTURING: _l("Smart manufacturing and robotics"),
            cls.LIFE_SCIENCES: _l("Life sciences"),
            cls.BIOTECHNOLOGY: _l("Biotechnology"),
            cls.MEDICAL_TECHNOLOGY: _l("Medical technology"),
            cls.AI_DIGITAL: _l("AI and digital technology"),
            cls.ECOMMERCE: _l("E-commerce"),
            cls.MACHINERY: _l("Mechanical engineering"),
            cls.PLASTICS_CHEMICALS: _l("Plastics and chemicals"),
            cls.ENERGY: _l("Energy and environmental technology"),
            cls.LOGISTICS: _l("Logistics"),
            cls.FOOD: _l("Food industry"),
            cls.SERVICES: _l("Business services"),
            cls.OTHER: _l("Other"),
        }


class OrganisationSector(db.Model):
    """One sector an organisation works in."""

    __tablename__ = "organisation_sectors"

    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True)
    sector: Mapped[str] = mapped_column(sa.String(40), primary_key=True, index=True)


class OrganisationTag(db.Model):
    """A free label on an organisation ("Newsletter", "Aftercare 2026")."""

    __tablename__ = "organisation_tags"

    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(sa.String(50), primary_key=True, index=True)


class Organisation(TimestampMixin, AuthoredMixin, SoftDeleteMixin, VersionedMixin, db.Model):
    """A company or body the team deals with: an investor, a partner, a university, a city."""

    __tablename__ = "organisations"
    __table_args__ = (
        live_index("ix_organisations_list", "name_sort", "id"),
        # The narrowest index of the live ones, which the list's total counts.
        live_index("ix_organisations_live", "id"),
        bin_index("ix_organisations_bin", "name_sort", "id"),
        sa.CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    kind: Mapped[str] = mapped_column(sa.String(20), nullable=False, index=True)
    country: Mapped[str | None] = mapped_column(sa.String(2), index=True)
    city: Mapped[str | None] = mapped_column(sa.String(200))
    address: Mapped[str | None] = mapped_column(sa.Text)
    website: Mapped[str | None] = mapped_column(sa.String(500))
    description: Mapped[str | None] = mapped_column(sa.Text)
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="SET NULL"), index=True)
    # Kept beside the name by derive_keys(): German sorting, folded search, duplicate checks.
    name_sort: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    search_text: Mapped[str] = mapped_column(sa.Text, nullable=False)
    match_key: Mapped[str] = mapped_column(sa.String(300), nullable=False, index=True)

    parent: Mapped["Organisation | None"] = relationship(remote_side=[id])
    sector_rows: Mapped[list[OrganisationSector]] = relationship(
        cascade="all, delete-orphan", order_by=OrganisationSector.sector)
    tag_rows: Mapped[list[OrganisationTag]] = relationship(
        cascade="all, delete-orphan", order_by=OrganisationTag.tag)

    def __str__(self):
        return self.name

    @property
    def kind_enum(self):
        return OrganisationKind(self.kind)

    @property
    def country_name(self):
        return country_name(self.country)

    @property
    def sectors(self):
        return [row.sector for row in self.sector_rows]

    @property
    def sector_labels(self):
        return [Sector(row.sector).label for row in self.sector_rows]

    @property
    def tags(self):
        return [row.tag for row in self.tag_rows]

    def derive_keys(self):
        """Refresh the keys kept beside the name; the services call it after every change."""
        self.name_sort = sort_key(self.name)[:300]
        self.match_key = organisation_match_key(self.name)[:300]
        self.search_text = search_key(self.name, self.city, *self.tags)
