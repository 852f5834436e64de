"""Saving and removing a user's views of the lists."""

from urllib.parse import parse_qsl, urlencode

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from crm.audit.services import record
from crm.core.services import NotFoundError, ValidationError
from crm.core.validation import Checker
from crm.extensions import db
from crm.saved_views.models import LISTS, SavedView

MAX_QUERY = 1000
# Paging is where one is in a list, not part of the view.
NOT_SAVED = {"page", "per_page", "csrf_token"}


def clean_query(query):
    """The query string of a list without paging, in a normal form (`a=1&b=2`)."""
    # Blank values stay: on some lists an empty filter means "records without one".
    pairs = [(k, v) for k, v in parse_qsl(query or "", keep_blank_values=True)
             if k not in NOT_SAVED]
    return urlencode(pairs)


def save_view(user, data, *, actor):
    """Save the filters and sorting `data["query"]` of the list `data["list_name"]` under
    `data["name"]` for `user`; the name is unique among the user's views of that list."""
    check = Checker(data)
    list_name = check.choice("list_name", list(LISTS), required=True)
    name = check.text("name", max_length=100, required=True)
    query = clean_query(data.get("query"))
    if len(query) > MAX_QUERY:
        check.fail("query", _l("These filters are too long to be saved."))
    check.done()
    if db.session.scalar(sa.select(SavedView.id).where(
            SavedView.user_id == user.id, SavedView.list_name == list_name,
            SavedView.name == name)) is not None:
        message = _l("You have a view of this list with this name already.")
        raise ValidationError(message, fields={"name": [message]})
    view = SavedView(user_id=user.id, list_name=list_name, name=name, query=query)
    db.session.add(view)
    db.session.flush()
    record("view.create", actor=actor, record=view,
           changes={"list_name": [None, list_name], "name": [None, name], "query": [None, query]})
    return view


def get_own_view(user, view_id):
    """A view of `user`'s; anyone else's is not found."""
    view = db.session.get(SavedView, view_id)
    if view is None or view.user_id != user.id:
        raise NotFoundError(_l("There is no such view."))
    return view


def delete_view(view, *, actor):
    record("view.delete", actor=actor, record=view,
           changes={"name": [view.name, None], "query": [view.query, None]})
    db.session.delete(view)


def views_of(user):
    """The user's views, by list and name."""
    return (sa.select(SavedView).where(SavedView.user_id == user.id,
                                       SavedView.list_name.in_(list(LISTS)))
            .order_by(SavedView.list_name, SavedView.name, SavedView.id))
