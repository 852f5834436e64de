"""A merge of two records found to be one: what it moved and removed, so an admin can undo it."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.models import UTCDateTime, utcnow
from crm.extensions import db


class Merge(db.Model):
    """`other` merged into `kept` (two contacts or two organisations, `record_type`).

    `kept_before` and `other_before` hold the fields each had; `moved` lists the rows that
    pointed at `other` and now point at `kept` (`[table, primary key, column]`), `removed` the
    rows of `other` that `kept` had already (an attendance at the same event, the same tag) as
    they were, `changed` rows of `kept` the merge changed (an attendance's status). An undo
requires both records as the merge left them (`kept_version_after`,
`other_version_after`)."""

    __tablename__ = "merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    kept_id: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    other_id: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow,
                                                 index=True)
    kept_before: Mapped[dict] = mapped_column(sa.JSON, nullable=False)
    other_before: Mapped[dict] = mapped_column(sa.JSON, nullable=False)
    moved: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    removed: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    changed: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    kept_version_after: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    # The other's version once merged away: an undo finds it so, or refuses.
    other_version_after: Mapped[int | None] = mapped_column(sa.Integer)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))

    user = relationship("User", foreign_keys=[user_id])
    undone_by = relationship("User", foreign_keys=[undone_by_id])


class DistinctPair(db.Model):
    """Two records found alike that a user has said are not one (two people called Kim
    Min-jun): the pair is no longer offered as likely duplicates. `first_id` < `second_id`."""

    __tablename__ = "distinct_pairs"
    __table_args__ = (sa.UniqueConstraint("record_type", "first_id", "second_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    first_id: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    second_id: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow,
                                                 index=True)

    user = relationship("User")
