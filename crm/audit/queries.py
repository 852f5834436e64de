"""Reading the audit log."""

import sqlalchemy as sa

from crm.audit.models import AuditEntry


def entries(*, action=None, actor_id=None, record_type=None, record_id=None, since=None,
            before=None):
    """Audit entries matching the filters, newest first, with their actors, as one select.
    `since` and `before` are moments: from `since` on, up to just before `before`."""
    query = sa.select(AuditEntry).options(sa.orm.joinedload(AuditEntry.actor))
    if since is not None:
        query = query.where(AuditEntry.created_at >= since)
    if before is not None:
        query = query.where(AuditEntry.created_at < before)
    if action:
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    if actor_id:
        query = query.where(AuditEntry.actor_id == actor_id)
    if record_type:
        query = query.where(AuditEntry.record_type == record_type)
        if record_id:
            query = query.where(AuditEntry.record_id == record_id)
    return query.order_by(AuditEntry.id.desc())


def history(record, limit=20):
    """The latest entries about one record."""
    return entries(record_type=record.__tablename__, record_id=record.id).limit(limit)
