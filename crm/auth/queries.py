"""Read-only questions about accounts, for the admin pages."""

import sqlalchemy as sa

from crm.auth.models import ApiToken, User

USER_SORTS = {"name": User.name_sort, "email": User.email, "role": User.role,
              "last_login_at": User.last_login_at}
USER_STATUSES = ("active", "inactive")


def user_list(*, q=None, role=None, status=None, sort="name", descending=False):
    """The accounts matching the filters, as one select."""
    query = sa.select(User)
    if q:
        query = query.where(sa.or_(User.name.icontains(q, autoescape=True),
                                   User.email.icontains(q, autoescape=True)))
    if role:
        query = query.where(User.role == role)
    if status == "active":
        query = query.where(User.is_active.is_(True))
    elif status == "inactive":
        query = query.where(User.is_active.is_(False))
    column = USER_SORTS[sort]
    order = column.desc() if descending else column.asc()
    if sort == "last_login_at":
        order = order.nulls_last()
    return query.order_by(order, User.id)


def tokens_of(user):
    return sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())


def active_users():
    """(id, name, role) of the active users, by name: whom a record can be given to."""
    return (sa.select(User.id, User.name, User.role).where(User.is_active.is_(True))
            .order_by(User.name_sort, User.id))
