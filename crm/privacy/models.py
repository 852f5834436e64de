"""The register of data-subject requests: what a person asked under the DSGVO, and by when it
must be answered."""

from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.models import AuthoredMixin, LabelledEnum, TimestampMixin, VersionedMixin
from crm.extensions import db


class RequestKind(LabelledEnum):
    """The rights a person may claim (Art. 15 to 21 DSGVO)."""

    ACCESS = "access"
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    RESTRICTION = "restriction"
    PORTABILITY = "portability"
    OBJECTION = "objection"

    @classmethod
    def _labels(cls):
        return {
            cls.ACCESS: _l("Access (Art. 15)"),
            cls.RECTIFICATION: _l("Rectification (Art. 16)"),
            cls.ERASURE: _l("Erasure (Art. 17)"),
            cls.RESTRICTION: _l("Restriction (Art. 18)"),
            cls.PORTABILITY: _l("Data portability (Art. 20)"),
            cls.OBJECTION: _l("Objection (Art. 21)"),
        }


class DataRequest(TimestampMixin, AuthoredMixin, VersionedMixin, db.Model):
    """One request of a data subject, due one month after it was received (Art. 12 (3))."""

    __tablename__ = "data_requests"
    __table_args__ = (sa.Index("ix_data_requests_open", "done_on", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    # Who asked, as they named themselves (the contact may not be known, or be erased later).
    requester: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    received_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    due_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    done_on: Mapped[date | None] = mapped_column(sa.Date)
    done_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(sa.Text)

    contact: Mapped["Contact | None"] = relationship("Contact")  # noqa: F821
    done_by: Mapped["User | None"] = relationship("User", foreign_keys=[done_by_id])  # noqa: F821

    def __str__(self):
        return f"{self.kind_enum.label}: {self.requester}"

    @property
    def kind_enum(self):
        return RequestKind(self.kind)
