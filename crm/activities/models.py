"""Notes, calls, meetings, emails and visits, on any record; some carry a follow-up."""

from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from crm.core.models import LabelledEnum, TimestampMixin, UTCDateTime, VersionedMixin, utcnow
from crm.core.text import search_key
from crm.extensions import db


class ActivityKind(LabelledEnum):
    """What sort of contact an activity records."""

    NOTE = "note"
    CALL = "call"
    MEETING = "meeting"
    EMAIL = "email"
    VISIT = "visit"

    @classmethod
    def _labels(cls):
        return {cls.NOTE: _l("Note"), cls.CALL: _l("Call"), cls.MEETING: _l("Meeting"),
                cls.EMAIL: _l("Email"), cls.VISIT: _l("Visit")}


OPEN_FOLLOW_UP = "due_on IS NOT NULL AND done_at IS NULL AND deleted_at IS NULL"


class Activity(TimestampMixin, VersionedMixin, db.Model):
    """A conversation or note about an organisation, a contact or an event."""

    __tablename__ = "activities"
    __table_args__ = (
        sa.CheckConstraint(
            "organisation_id IS NOT NULL OR contact_id IS NOT NULL OR event_id IS NOT NULL "
            "OR lead_id IS NOT NULL", name="has_subject"),
        # A lead's activities in time order: its timeline, and its last activity for the
        # stalled leads of the reports, read from the index alone.
        sa.Index("ix_activities_lead_id_occurred_at", "lead_id", "occurred_at"),
        # The open follow-ups, soonest first: a few among a history of notes.
        sa.Index("ix_activities_open_follow_ups", "due_on", "id", "assignee_id",
                 sqlite_where=sa.text(OPEN_FOLLOW_UP), postgresql_where=sa.text(OPEN_FOLLOW_UP)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    body: Mapped[str] = mapped_column(sa.Text, nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow,
                                                  index=True)
    author_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), index=True)
    lead_id: Mapped[int | None] = mapped_column(sa.ForeignKey("leads.id", ondelete="CASCADE"))
    # A follow-up: due on a day, for someone, open until done.
    due_on: Mapped[date | None] = mapped_column(sa.Date)
    assignee_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The text folded for searching, set with the text itself (see `_fold_body`).
    search_text: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")

    author: Mapped["User | None"] = relationship("User", foreign_keys=[author_id])  # noqa: F821
    assignee: Mapped["User | None"] = relationship(  # noqa: F821
        "User", foreign_keys=[assignee_id])
    contact: Mapped["Contact | None"] = relationship("Contact")  # noqa: F821
    organisation: Mapped["Organisation | None"] = relationship("Organisation")  # noqa: F821
    event: Mapped["Event | None"] = relationship("Event")  # noqa: F821
    lead: Mapped["Lead | None"] = relationship("Lead")  # noqa: F821

    def __str__(self):
        return f"{self.kind_enum.label}: {self.body[:60]}"

    @property
    def kind_enum(self):
        return ActivityKind(self.kind)

    @validates("body")
    def _fold_body(self, key, body):
        self.search_text = search_key(body)
        return body


class ReminderDigest(db.Model):
    """That a user's daily reminder went out: sending twice on one day is refused by the key."""

    __tablename__ = "reminder_digests"
    __table_args__ = (sa.UniqueConstraint("user_id", "sent_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                         nullable=False)
    sent_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
