"""Merging two records found to be one, and undoing a merge.

A merge keeps one record (`kept`) with the field values the user chose, moves everything that
pointed at the other (affiliations, attendances, activities, leads, tags, requests, ...: every
foreign key of the schema that refers to the table, found in the models' metadata, so a table
added later is moved too) and marks the other deleted. Where the kept record has the same row
already (an attendance at the same event, the same tag), the other's row is removed; an
attendance keeps the further status ("met" over "invited"). Everything is recorded in a
`Merge`, which an admin can undo while the kept record is unchanged since.
"""

from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from crm.audit.services import record
from crm.auth.permissions import Permission, has_permission
from crm.contacts import services as contact_services
from crm.contacts.models import Contact
from crm.core.models import utcnow
from crm.core.services import ValidationError, touch
from crm.duplicates.models import DistinctPair, Merge
from crm.events.models import AttendanceStatus
from crm.extensions import db
from crm.organisations import services as organisation_services
from crm.organisations.models import Organisation

# The fields the user chooses between, per kind of record.
CONTACT_FIELDS = ("academic_title", "first_name", "last_name", "latin_name", "position",
                  "email", "phone", "mobile", "language", "owner_id", "legal_basis", "source",
                  "informed_on", "marketing_consent", "do_not_contact")
ORGANISATION_FIELDS = ("name", "kind", "country", "city", "address", "website", "description",
                       "parent_id")
KINDS = {
    "contacts": (Contact, CONTACT_FIELDS, contact_services.update_contact),
    "organisations": (Organisation, ORGANISATION_FIELDS,
                      organisation_services.update_organisation),
}
_STATUS_ORDER = [status.value for status in AttendanceStatus]
# Records of what was done, which keep pointing at the record they were about: an import's
# row still names the person it changed (an undo of the import then finds them merged away
# and refuses), a merge the records it merged.
_JOURNALS = {"merges", "imported_rows"}


def merge(record_type, kept, other, choices, *, actor):
    """Merge `other` into `kept`; `choices` maps each field to "kept" or "other" (missing:
    "kept"). Returns the `Merge`."""
    model, fields, update = KINDS[record_type]
    if kept.id == other.id:
        raise ValidationError(_l("A record cannot be merged with itself."))
    if kept.is_deleted or other.is_deleted:
        raise ValidationError(_l("One of the two records has been deleted meanwhile."))
    if getattr(kept, "erased_at", None) or getattr(other, "erased_at", None):
        raise ValidationError(_l("This person's data has been erased; nothing can be added."))
    unknown = {name for name, side in choices.items()
               if name not in fields or side not in ("kept", "other")}
    if unknown:
        raise ValidationError(_l("Choose one of the two values."),
                              fields={name: [_l("Choose one of the two values.")]
                                      for name in sorted(unknown)})
    kept_before, other_before = _fields(kept, fields), _fields(other, fields)
    data = {name: _from_json(model.__table__.c[name], other_before[name])
            for name, side in choices.items() if side == "other"}
    if record_type == "contacts" and other.do_not_contact:
        data["do_not_contact"] = True  # a wish not to be contacted survives any merge
    if record_type == "organisations":
        _check_parent(kept, other, data)
    # The other record lets go of its email first, which the kept one may take over.
    if record_type == "contacts" and other.email:
        other.email = None
        db.session.flush()
    moved, removed, changed = _move_references(model.__table__, kept.id, other.id)
    db.session.expire_all()
    kept, other = db.session.get(model, kept.id), db.session.get(model, other.id)
    update(kept, data, actor=actor, allow_duplicate=True)
    touch(kept)  # its related rows changed: a form opened before must see a conflict
    other.deleted_at = utcnow()
    touch(other)
    db.session.flush()
    done = Merge(record_type=record_type, kept_id=kept.id, other_id=other.id,
                 user_id=getattr(actor, "id", None), kept_before=kept_before,
                 other_before=other_before, moved=moved, removed=removed, changed=changed,
                 kept_version_after=kept.version, other_version_after=other.version)
    db.session.add(done)
    db.session.flush()
    record(f"{record_type[:-1]}.merge", actor=actor, record=kept, label=str(kept),
           changes={"merged": [f"{other} (#{other.id})", f"{kept} (#{kept.id})"],
                    "merged_id": [other.id, kept.id]})
    return done


def _check_parent(kept, other, data):
    """Never a parent organisation that is the kept one or would become one of its
    subsidiaries: the other's subsidiaries become the kept one's. A parent that was one of the
    two is dropped; one below them is refused on the field."""
    parent_id = data.get("parent_id", kept.parent_id)
    if parent_id in (kept.id, other.id):
        data["parent_id"] = None
        return
    seen, current = set(), parent_id
    while current is not None and current not in seen:
        if current in (kept.id, other.id):
            message = _l("“%(name)s” belongs to one of the two organisations and cannot be "
                         "their parent; choose the other value.",
                         name=str(db.session.get(Organisation, parent_id)))
            raise ValidationError(message, fields={"parent_id": [message]})
        seen.add(current)
        current = db.session.scalar(sa.select(Organisation.parent_id)
                                    .where(Organisation.id == current))


def undo_merge(done, *, actor):
    """Put both records back as they were before the merge (admins only). Refused while the
    kept record has been changed since, to overwrite nothing."""
    if not has_permission(actor, Permission.RESTORE_RECORDS):
        raise ValidationError(_l("Only an admin can undo a merge."))
    if done.undone_at is not None:
        raise ValidationError(_l("This merge has been undone already."))
    model, _fields, update = KINDS[done.record_type]
    kept, other = db.session.get(model, done.kept_id), db.session.get(model, done.other_id)
    if kept is None or kept.version != done.kept_version_after:
        raise ValidationError(_l("“%(name)s” has been changed since the merge; undo those "
                                 "changes first, or correct the records by hand.",
                                 name=str(kept or "")))
    if other is None or not other.is_deleted or (
            done.other_version_after is not None and other.version != done.other_version_after):
        raise ValidationError(_l("“%(name)s” has been restored, changed or merged again since "
                                 "the merge; correct the records by hand.",
                                 name=str(other or "")))
    # Rows first, so that the fields put back find the records as they were.
    for table_name, key, column, status in reversed(done.changed):
        table = db.metadata.tables[table_name]
        db.session.execute(table.update().where(*_where(table, key)).values({column: status}))
    for table_name, key, column in done.moved:
        table = db.metadata.tables[table_name]
        db.session.execute(table.update().where(*_where(table, {**key, column: done.kept_id}))
                           .values({column: done.other_id}))
    for table_name, row in done.removed:
        _put_back(db.metadata.tables[table_name], row)
    db.session.expire_all()
    kept, other = db.session.get(model, done.kept_id), db.session.get(model, done.other_id)
    data = {name: _from_json(model.__table__.c[name], value)
            for name, value in done.kept_before.items()}
    # The other comes back first: the kept one's parent may have been the other.
    other.deleted_at = None
    db.session.flush()
    update(kept, data, actor=actor, allow_duplicate=True)
    for name, value in done.other_before.items():
        setattr(other, name, _from_json(model.__table__.c[name], value))
    if hasattr(other, "derive_keys"):
        other.derive_keys()
    touch(other)
    touch(kept)
    done.undone_at, done.undone_by_id = utcnow(), getattr(actor, "id", None)
    db.session.flush()
    record(f"{done.record_type[:-1]}.merge_undo", actor=actor, record=kept, label=str(kept),
           changes={"merged": [f"{kept} (#{kept.id})", f"{other} (#{other.id})"],
                    "merged_id": [kept.id, other.id]})
    return kept, other


def _put_back(table, row):
    """Insert a row the merge removed, unless the same row is there again (the same tag, the
    same event for the person); under a new id if its own has been given to another row."""
    row = _typed(table, row)
    for key in _unique_keys(table):
        if db.session.execute(sa.select(*key).where(
                *(column == row[column.name] for column in key))).first() is not None:
            return
    if "id" in row and db.session.execute(
            sa.select(table.c.id).where(table.c.id == row["id"])).first() is not None:
        row = {name: value for name, value in row.items() if name != "id"}
    db.session.execute(table.insert().values(row))


def _fields(record_, fields):
    return {name: _to_json(getattr(record_, name)) for name in fields}


def _to_json(value):
    return value.isoformat() if isinstance(value, date | datetime) else value


def _from_json(column, value):
    """A value as `_to_json` kept it, back in the column's type (dates were kept as text)."""
    kind = column.type.impl if isinstance(column.type, sa.TypeDecorator) else column.type
    if value is None or not isinstance(value, str):
        return value
    if isinstance(kind, sa.DateTime):
        return datetime.fromisoformat(value)
    if isinstance(kind, sa.Date):
        return date.fromisoformat(value)
    return value


def _typed(table, row):
    return {name: _from_json(table.c[name], value) for name, value in row.items()}


def _where(table, key):
    return [table.c[name] == value for name, value in key.items()]


def _move_references(target, kept_id, other_id):
    """Point every row that refers to `other_id` in `target` at `kept_id`; returns what was
    moved, removed and changed, for the undo."""
    moved, removed, changed = [], [], []
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table is not target or table.name in _JOURNALS:
                continue
            column = fk.parent
            key_columns = list(table.primary_key.columns)
            siblings = _siblings(table, column)
            rows = db.session.execute(sa.select(table).where(column == other_id)).mappings().all()
            for row in rows:
                key = {c.name: row[c.name] for c in key_columns if c is not column}
                if table is target and row["id"] == kept_id:
                    continue  # the kept record's own parent: chosen among the fields
                twin = None
                if siblings:
                    twin = db.session.execute(sa.select(table).where(
                        column == kept_id, *(table.c[s] == row[s] for s in siblings))
                    ).mappings().first()
                if twin is None:
                    db.session.execute(table.update().where(
                        *_where(table, {c.name: row[c.name] for c in key_columns}))
                        .values({column.name: kept_id}))
                    moved.append([table.name, key, column.name])
                    continue
                if table.name == "attendances" and _further(row["status"], twin["status"]):
                    twin_key = {c.name: twin[c.name] for c in key_columns}
                    changed.append([table.name, twin_key, "status", twin["status"]])
                    db.session.execute(table.update().where(*_where(table, twin_key))
                                       .values(status=row["status"]))
                removed.append([table.name, {name: _to_json(value)
                                             for name, value in row.items()}])
                db.session.execute(table.delete().where(
                    *_where(table, {c.name: row[c.name] for c in key_columns})))
    return moved, removed, changed


def _unique_keys(table):
    """The unique keys of `table` other than a lone `id`: the columns that make a row the same
    row as another."""
    keys = [list(table.primary_key.columns)] + [
        list(c.columns) for c in table.constraints if isinstance(c, sa.UniqueConstraint)]
    return [key for key in keys if [c.name for c in key] != ["id"]]


def _siblings(table, column):
    """The other columns of a unique key (or primary key) that `column` is part of: rows
    alike in them are the same row once `column` points at one record."""
    for key in _unique_keys(table):
        if column in key and len(key) > 1:
            return [c.name for c in key if c is not column]
    return []


def _further(status, other_status):
    return _STATUS_ORDER.index(status) > _STATUS_ORDER.index(other_status)


def mark_distinct(record_type, record_, others, *, actor):
    """Record that `record_` is not the same as any of `others` (records found alike), so
    that those pairs are no longer offered as likely duplicates; a pair marked already stays
    as it is. Returns the new `DistinctPair`s."""
    if not others or any(other.id == record_.id for other in others):
        raise ValidationError(_l("Choose the records it is not the same as."))
    if any(r.is_deleted or getattr(r, "erased_at", None) for r in (record_, *others)):
        raise ValidationError(_l("One of the records has been deleted meanwhile."))
    wanted = {tuple(sorted((record_.id, other.id))) for other in others}
    have = {tuple(pair) for pair in db.session.execute(
        sa.select(DistinctPair.first_id, DistinctPair.second_id).where(
            DistinctPair.record_type == record_type,
            sa.tuple_(DistinctPair.first_id, DistinctPair.second_id).in_(wanted)))}
    pairs = [DistinctPair(record_type=record_type, first_id=first_id, second_id=second_id,
                          user_id=getattr(actor, "id", None))
             for first_id, second_id in sorted(wanted - have)]
    db.session.add_all(pairs)
    db.session.flush()
    for pair in pairs:
        # Ids, not names: the entry outlives an erasure of either person.
        record("duplicates.distinct", actor=actor, record=pair,
               label=f"#{pair.first_id} / #{pair.second_id}")
    return pairs


def unmark_distinct(pair, *, actor):
    """Offer the pair as likely duplicates again."""
    record("duplicates.distinct_undo", actor=actor, record=pair,
           label=f"#{pair.first_id} / #{pair.second_id}")
    db.session.delete(pair)
    db.session.flush()
