"""Saved views: a user's named filters and sorting of a list, found again in the navigation."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from crm.core.models import TimestampMixin
from crm.extensions import db

# The lists a view can be saved of: key -> (endpoint of the list page, its name).
LISTS = {
    "organisations": ("organisations.index", _l("Organisations")),
    "contacts": ("contacts.index", _l("Contacts")),
    "events": ("events.index", _l("Events")),
    "leads": ("leads.index", _l("Leads")),
    "pipeline": ("leads.pipeline", _l("Pipeline")),
    "follow-ups": ("activities.follow_ups", _l("Follow-ups")),
}
# Which list an endpoint shows, for the "save this view" link of its page.
LIST_OF_ENDPOINT = {endpoint: key for key, (endpoint, _label) in LISTS.items()}


class SavedView(TimestampMixin, db.Model):
    """One user's named query string of one list (filters and sorting, never a page)."""

    __tablename__ = "saved_views"
    __table_args__ = (sa.UniqueConstraint("user_id", "list_name", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    list_name: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    query: Mapped[str] = mapped_column(sa.String(1000), nullable=False, default="")

    def __str__(self):
        return self.name

    @property
    def endpoint(self):
        return LISTS[self.list_name][0]

    @property
    def list_label(self):
        return str(LISTS[self.list_name][1])
