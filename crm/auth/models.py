"""Team members, their roles and their API tokens."""

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from crm.core.models import LabelledEnum, TimestampMixin, UTCDateTime, VersionedMixin
from crm.core.text import sort_key
from crm.extensions import db


class Role(LabelledEnum):
    """What a team member may do: see `crm.auth.permissions`."""

    MEMBER = "member"
    MANAGER = "manager"
    ADMIN = "admin"

    @classmethod
    def _labels(cls):
        return {cls.MEMBER: _l("Team member"), cls.MANAGER: _l("Manager"),
                cls.ADMIN: _l("Administrator")}


class Language(LabelledEnum):
    """The languages of the interface. Each is named in its own language."""

    DE = "de"
    EN = "en"

    @classmethod
    def _labels(cls):
        return {cls.DE: "Deutsch", cls.EN: "English"}


class User(TimestampMixin, VersionedMixin, db.Model):
    """A member of the agency's team who signs in to Lotse."""

    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint("role IN ('member', 'manager', 'admin')", name="role"),
        sa.CheckConstraint("language IN ('de', 'en')", name="language"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased (see services.normalise_email), so the unique index is case-insensitive.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    # `name` folded for sorting the German way (crm.core.text.sort_key); set with the name.
    name_sort: Mapped[str] = mapped_column(sa.String(200), nullable=False, index=True)
    role: Mapped[str] = mapped_column(sa.String(20), nullable=False, default=Role.MEMBER.value)
    language: Mapped[str] = mapped_column(sa.String(5), nullable=False, default=Language.DE.value)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    # A one-time password (set by an admin or the CLI) must be replaced at the next login.
    must_change_password: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    # Part of every session's identity: raising it ends all sessions of the user at once.
    session_version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The SHA-256 of the secret in the user's private calendar address; None when switched off.
    calendar_token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)

    tokens: Mapped[list["ApiToken"]] = relationship(
        back_populates="user", order_by="ApiToken.id", cascade="all, delete-orphan"
    )

    @declared_attr.directive
    def __mapper_args__(cls):
        # Logins and logouts write to this row too; they must not make an admin's open edit
        # form stale. So only the services' real edits raise the version (`bump_version`),
        # while every UPDATE is still checked against the version it loaded.
        return {"version_id_col": cls.version, "version_id_generator": False}

    def __str__(self):
        return self.name

    @sa.orm.validates("name")
    def _keep_sort_key(self, _key, name):
        self.name_sort = sort_key(name)[:200]
        return name

    @property
    def role_enum(self):
        return Role(self.role)

    @property
    def language_enum(self):
        return Language(self.language)

    # What Flask-Login asks of a user object.
    @property
    def is_authenticated(self):
        return True

    @property
    def is_anonymous(self):
        return False

    def get_id(self):
        """The session's reference to the user: id and session version, so it can be revoked."""
        return f"{self.id}:{self.session_version}"


class ApiToken(TimestampMixin, db.Model):
    """A bearer token for the JSON API. Only its SHA-256 hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    # The first characters of the token, shown so a user can tell tokens apart.
    prefix: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A read-only token may read what its user may read, and change nothing.
    is_read_only: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False,
                                               server_default=sa.false())

    user: Mapped[User] = relationship(back_populates="tokens")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self):
        return self.revoked_at is not None


class RateLimitCounter(db.Model):
    """A login-throttling counter shared by every worker process (see `crm.auth.ratelimit`):
    how many attempts a key made in its current window, and when the window ends."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(sa.String(600), primary_key=True)
    count: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    # Seconds since the epoch: compared as numbers the same way on SQLite and PostgreSQL.
    expires_at: Mapped[float] = mapped_column(sa.Float, nullable=False, index=True)
