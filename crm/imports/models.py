"""An uploaded table waiting for its import: kept between the preview and the import, for the
user who uploaded it only, and removed once imported."""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.models import TimestampMixin
from crm.extensions import db


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

    event = relationship("Event")
