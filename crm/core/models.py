"""Building blocks every model shares: UTC timestamps, authorship, soft delete, versions."""

import enum
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Mapped, declared_attr, mapped_column


def utcnow():
    """The current moment, timezone-aware, in UTC."""
    return datetime.now(UTC)


def local_zone():
    """The agency's time zone (Europe/Berlin), as zoneinfo knows it (pytz's would need care)."""
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def local_today():
    """Today in the agency's time zone: from midnight in Berlin, while UTC is still at
    yesterday."""
    return utcnow().astimezone(local_zone()).date()


class UTCDateTime(sa.types.TypeDecorator):
    """A moment in time, stored in UTC and always returned timezone-aware.

    SQLite keeps no time zone; PostgreSQL keeps `timestamptz`. Both come back as aware UTC
    datetimes, so comparisons and formatting never mix naive and aware values.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use crm.core.models.utcnow()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class LabelledEnum(enum.StrEnum):
    """An enumeration stored as its string value, with a translatable label for the page.

    Subclasses define `_labels()`, returning lazy gettext strings keyed by member, so that
    every label lives in one place next to its values.
    """

    @classmethod
    def _labels(cls):
        return {}

    @property
    def label(self):
        return str(self._labels().get(self, self.value))

    @classmethod
    def choices(cls):
        """(value, label) pairs for a form's select field."""
        return [(member.value, member.label) for member in cls]


class TimestampMixin:
    """When a record was created and last changed."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


class AuthoredMixin:
    """Who created a record (empty for records made by the system)."""

    @declared_attr
    def created_by_id(cls) -> Mapped[int | None]:
        return mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)


class SoftDeleteMixin:
    """Records are never removed at once: deleting sets `deleted_at`, an admin can restore."""

    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @property
    def is_deleted(self):
        return self.deleted_at is not None


def live_index(name, *columns):
    """An index over the records not deleted only, in the order a list reads them.

    PostgreSQL reads `WHERE deleted_at IS NULL ORDER BY name` along an index only if the
    index holds the live records alone (it does not treat IS NULL on a leading column as an
    equality); SQLite does either. The deleted ones get an index of their own (`bin_index`).
    """
    live = sa.text("deleted_at IS NULL")
    return sa.Index(name, *columns, sqlite_where=live, postgresql_where=live)


def bin_index(name, *columns):
    """An index over the deleted records only (the few an admin may restore)."""
    deleted = sa.text("deleted_at IS NOT NULL")
    return sa.Index(name, *columns, sqlite_where=deleted, postgresql_where=deleted)


class VersionedMixin:
    """Optimistic locking: every update raises `version`, a stale writer gets a conflict.

    SQLAlchemy adds `WHERE version = :loaded` to each UPDATE and raises `StaleDataError` when
    another transaction got there first; services also compare the version a form or API
    client last saw (`crm.core.services.check_version`).
    """

    version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls):
        return {"version_id_col": cls.version}
