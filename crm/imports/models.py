"""An uploaded table waiting for its import (kept between the preview and the import, for the
user who uploaded it only, and removed once imported); and the imports carried out, with what
each did, so that one can be undone as a whole."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.models import TimestampMixin, UTCDateTime, utcnow
from crm.extensions import db


class Job(StrEnum):
    CHECK = "check"
    IMPORT = "import"


class JobState(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ImportUpload(TimestampMixin, db.Model):
    """The file as uploaded, and where its people were met (an event and how)."""

    __tablename__ = "import_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    filename: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary, nullable=False)
    event_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("events.id", ondelete="SET NULL"), nullable=True)
    status: Mapped[str | None] = mapped_column(sa.String(20))
    # A large file is checked and imported in the background (`crm.imports.jobs`): which of
    # the two ran last (`Job`), how far it is (`JobState`), with which columns and whose
    # (`job_options`), how many rows it has done, and what came of it.
    job: Mapped[str | None] = mapped_column(sa.String(10))
    job_state: Mapped[str | None] = mapped_column(sa.String(10))
    job_options: Mapped[dict | None] = mapped_column(sa.JSON)
    rows_done: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0,
                                           server_default="0")
    job_result: Mapped[dict | None] = mapped_column(sa.JSON)
    job_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event = relationship("Event")


class ContactImport(db.Model):
    """An import that was carried out: who, which file, where, what it did, and whether it has
    been undone. Its rows (`ImportedRow`) say what each person was before, for the undo."""

    __tablename__ = "contact_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    event_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("events.id", ondelete="SET NULL"))
    status: Mapped[str | None] = mapped_column(sa.String(20))
    counts: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    # A large file's import still going on in the background: not to be undone meanwhile.
    in_progress: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False,
                                              server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow,
                                                 index=True)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))

    user = relationship("User", foreign_keys=[user_id])
    undone_by = relationship("User", foreign_keys=[undone_by_id])
    event = relationship("Event")
    rows: Mapped[list["ImportedRow"]] = relationship(
        back_populates="contact_import", cascade="all, delete-orphan",
        order_by="ImportedRow.id")


class ImportedRow(db.Model):
    """What one row of an import did to one person: created them, or changed them from
    `before` (the fields, tags and organisations); and what their attendance at the import's
    event was before (`attendance_before`, None for none). `version_after` tells whether the
    person was changed since."""

    __tablename__ = "imported_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contact_imports.id", ondelete="CASCADE"), nullable=False, index=True)
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    created: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    before: Mapped[dict | None] = mapped_column(sa.JSON)
    version_after: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    attendance_before: Mapped[str | None] = mapped_column(sa.String(20))
    organisation_created_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="SET NULL"))

    contact_import: Mapped[ContactImport] = relationship(back_populates="rows")
    contact = relationship("Contact")
