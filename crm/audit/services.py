"""Writing the audit log. Every service that changes data calls `record()`."""

import enum
import functools
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from crm.audit.models import AuditEntry
from crm.core.models import utcnow
from crm.core.sql import insert_many
from crm.extensions import db

# Field names whose values never reach the log, however a service names them.
SECRET_MARKERS = ("password", "token", "secret")
REDACTED = "[redacted]"
# Where the session keeps the API token its changes come through (see `acting_through`).
_VIA = "audit_via"


def record(action, *, actor, record=None, changes=None, label=None):
    """Add an audit entry for `action` by `actor` on `record` to the current transaction.

    `changes` maps field names to `(before, after)`; secret fields keep their name but lose
    their values. The entry is committed with the change it describes, or not at all.
    """
    if label is None and record is not None:
        label = str(record)
    entry = AuditEntry(**_values(action, actor, record.__tablename__ if record is not None
                                 else None, getattr(record, "id", None), label, changes,
                                 utcnow()))
    db.session.add(entry)
    return entry


def acting_through(label):
    """Mark the audit entries of the current session (a request) as made through `label`: the
    API sets its token's name here, so the log tells which program changed what."""
    db.session.info[_VIA] = label[:130] if label else None


def record_many(action, *, actor, record_type, items):
    """Audit entries for `action` on many rows of the table `record_type` at once, as
    `record()` writes them, with one statement (an import's new people): `items` are
    `(record_id, label, changes)`."""
    common = _values(action, actor, record_type, None, None, None, utcnow())
    insert_many(AuditEntry.__table__, [
        {**common, "record_id": record_id, "record_label": _label(label),
         "changes": _clean_changes(changes)} for record_id, label, changes in items])


def _values(action, actor, record_type, record_id, label, changes, now):
    return {"created_at": now, "actor_id": getattr(actor, "id", None), "action": action,
            "record_type": record_type, "record_id": record_id,
            "record_label": _label(label),
            "changes": _clean_changes(changes), "via": db.session.info.get(_VIA)}


def _label(label):
    return label[:300] if label else label


def diff(before, after):
    """The fields whose values differ between two snapshots, as `{field: (before, after)}`."""
    return {
        field: (before.get(field), value)
        for field, value in after.items()
        if before.get(field) != value
    }


def snapshot(record, fields):
    """The current values of `fields` on `record`, for `diff()`."""
    return {field: getattr(record, field) for field in fields}


def _clean_changes(changes):
    if not changes:
        return None
    return {field: [REDACTED, REDACTED] if _is_secret(field) else [_plain(before), _plain(after)]
            for field, (before, after) in changes.items()}


@functools.cache
def _is_secret(field):
    return any(marker in field.lower() for marker in SECRET_MARKERS)


_PLAIN_TYPES = {type(None), bool, int, float, str}


def _plain(value):
    """A value as JSON can hold it."""
    if type(value) in _PLAIN_TYPES:
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return str(value)


def note_export(what, *, actor, form, filters=None):
    """Record that data left the application as a download: what (a label), in which form
    (csv, xlsx, json), with which filters."""
    changes = {"form": [None, form]}
    if filters:
        changes["filters"] = [None, filters]
    return record("export", actor=actor, label=str(what)[:300], changes=changes)


def recently_recorded(action, *, actor, label, within):
    """Whether `actor` has an entry for `action` with `label` in the last `within`."""
    return db.session.scalar(
        sa.select(AuditEntry.id).where(
            AuditEntry.action == action, AuditEntry.actor_id == getattr(actor, "id", None),
            AuditEntry.record_label == label, AuditEntry.created_at >= utcnow() - within)
        .limit(1)) is not None
