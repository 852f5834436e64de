"""Who may do what: the role → permission map, the view decorator and checks on single records.

Every view and API endpoint asks here; nothing else decides about access. Login itself is
required for every endpoint by `crm.auth.views.require_login` unless a view is marked `@public`.
"""

import enum
from datetime import timedelta
from functools import wraps

from flask import abort, g, request
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from crm.audit.services import recently_recorded, record
from crm.auth.models import Role
from crm.core.access import public  # noqa: F401  (views import it from here)
from crm.core.services import NotFoundError
from crm.extensions import db


class Permission(enum.StrEnum):
    """A thing a role may do."""

    VIEW_RECORDS = "view_records"
    EDIT_RECORDS = "edit_records"
    VIEW_CONFIDENTIAL = "view_confidential"  # every confidential lead, not only one's own
    EDIT_ALL_LEADS = "edit_all_leads"
    CONFIRM_WINS = "confirm_wins"
    OVERRIDE_STAGE_RULES = "override_stage_rules"
    VIEW_REPORTS = "view_reports"
    VIEW_AUDIT = "view_audit"
    MANAGE_USERS = "manage_users"
    RESTORE_RECORDS = "restore_records"
    DATA_PROTECTION = "data_protection"
    MANAGE_WEBHOOKS = "manage_webhooks"


_MEMBER = {Permission.VIEW_RECORDS, Permission.EDIT_RECORDS}
_MANAGER = _MEMBER | {
    Permission.VIEW_CONFIDENTIAL,
    Permission.EDIT_ALL_LEADS,
    Permission.CONFIRM_WINS,
    Permission.OVERRIDE_STAGE_RULES,
    Permission.VIEW_REPORTS,
    Permission.VIEW_AUDIT,
}
_ADMIN = set(Permission)

ROLE_PERMISSIONS = {
    Role.MEMBER: frozenset(_MEMBER),
    Role.MANAGER: frozenset(_MANAGER),
    Role.ADMIN: frozenset(_ADMIN),
}


def current_actor():
    """The user a request acts for: the API token's owner, or the signed-in user."""
    user = g.get("api_user")
    if user is not None:
        return user
    return current_user if current_user.is_authenticated else None


def has_permission(user, permission):
    """Whether `user` (signed in and active) holds `permission` through their role."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return permission in ROLE_PERMISSIONS[Role(user.role)]


def require(*permissions):
    """View decorator: 403 unless the acting user holds every one of `permissions`."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            actor = current_actor()
            if not all(has_permission(actor, p) for p in permissions):
                _note_refusal(actor, permissions)
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_permissions = frozenset(permissions)
        return wrapped

    return decorator


def _note_refusal(actor, permissions):
    """Record a refused access in the audit log, in a transaction of its own (nothing else has
    happened in the request yet), once a minute per person and address, so that repeating it
    cannot flood the log. A database that fails here must not hide the 403."""
    label = f"{request.method} {request.path}"[:300]
    try:
        if not recently_recorded("access.refused", actor=actor, label=label,
                                 within=timedelta(minutes=1)):
            record("access.refused", actor=actor, label=label,
                   changes={"permission": [None, ", ".join(sorted(permissions))]})
            db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()


# Questions about one record.


def can_revoke_token(actor, token):
    """A token's owner may revoke it, and so may an admin."""
    return token.user_id == getattr(actor, "id", None) or has_permission(
        actor, Permission.MANAGE_USERS
    )


def is_on_lead(user, lead):
    """Whether `user` owns `lead` or is on its team."""
    user_id = getattr(user, "id", None)
    return user_id is not None and (lead.owner_id == user_id
                                    or any(u.id == user_id for u in lead.team_members))


def can_view_lead(user, lead):
    """A confidential lead is seen only by its owner, its team, managers and admins."""
    if not has_permission(user, Permission.VIEW_RECORDS):
        return False
    return (not lead.is_confidential or has_permission(user, Permission.VIEW_CONFIDENTIAL)
            or is_on_lead(user, lead))


def can_edit_lead(user, lead):
    """Members change the leads they own or are on the team of; managers and admins all."""
    if not can_view_lead(user, lead) or not has_permission(user, Permission.EDIT_RECORDS):
        return False
    return has_permission(user, Permission.EDIT_ALL_LEADS) or is_on_lead(user, lead)


def can_edit_activity(user, activity):
    """Its author changes or deletes an activity; managers and admins any."""
    return has_permission(user, Permission.EDIT_ALL_LEADS) or (
        has_permission(user, Permission.EDIT_RECORDS)
        and activity.author_id == getattr(user, "id", None))


def can_view_deleted(actor):
    """Soft-deleted records are seen (and restored) only by admins."""
    return has_permission(actor, Permission.RESTORE_RECORDS)


def record_or_404(getter, record_id, *, writing=False):
    """A record for a page or the API: 404 when it does not exist or is deleted, except that
    admins (who may restore) see deleted records. Nobody changes a deleted record (`writing`)
    but by restoring it."""
    try:
        return getter(record_id, include_deleted=not writing and can_view_deleted(current_actor()))
    except NotFoundError:
        abort(404)
