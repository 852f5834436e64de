"""What every service shares: the errors it raises, which views and the API turn into 4xx."""

from flask_babel import lazy_gettext as _l

from crm.core.models import utcnow


class ServiceError(Exception):
    """A business rule refused a change. `fields` maps field names to messages."""

    code = "invalid"
    status = 422

    def __init__(self, message, fields=None):
        super().__init__(str(message))
        self.message = message
        self.fields = fields or {}


class ValidationError(ServiceError):
    """The data breaks a rule that needs the database (a duplicate, a last admin, ...)."""


class ConflictError(ServiceError):
    """Someone else changed the record since the caller loaded it."""

    code = "conflict"
    status = 409


class NotFoundError(ServiceError):
    """The record does not exist, or the caller may not know it exists."""

    code = "not_found"
    status = 404


def check_version(record, expected_version):
    """Refuse a change made on top of an outdated copy of `record`."""
    if expected_version is None:
        return
    if isinstance(expected_version, bool) or not isinstance(expected_version, int | str) \
            or not str(expected_version).strip().isdecimal():
        raise ValidationError(_l("Give the version as a whole number."),
                              fields={"version": [_l("Give the version as a whole number.")]})
    if int(expected_version) != record.version:
        raise ConflictError(
            _l(
                "Someone else changed this record in the meantime. "
                "Reload it to see their changes, then make yours again."
            ),
            fields={"version": [_l("This version is out of date.")]},
        )


class DuplicateError(ServiceError):
    """The record looks like one that exists; the caller may confirm and create it anyway."""

    code = "duplicate"
    status = 409

    def __init__(self, message, fields=None, duplicates=()):
        super().__init__(message, fields)
        self.duplicates = list(duplicates)


def check_fields(data, allowed):
    """Refuse fields the record does not have (an API client's typo must not pass silently)."""
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValidationError(
            _l("Unknown fields: %(fields)s.", fields=", ".join(unknown)),
            fields={name: [_l("This field does not exist.")] for name in unknown},
        )


def clean_tags(checker, field="tags"):
    """Free labels from a list or a comma-separated text: trimmed, at most 50 characters each,
    20 in all, the first spelling kept when two differ only in case. Empty pieces of a text are
    left out; an empty item of a list is refused."""
    value = checker.data.get(field)
    if value in (None, ""):
        return []
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or any(not isinstance(t, str) for t in items):
        checker.fail(field, _l("Give the tags as a list of texts."))
        return []
    if not isinstance(value, str) and (len(items) > 20 or any(not t.strip() for t in items)):
        # A list says each tag on its own: an empty one, or too many, is a mistake to name.
        checker.fail(field, _l("At most 20 tags of at most 50 characters each, none empty."))
        return []
    tags, seen = [], set()
    for tag in (" ".join(t.split()) for t in items):
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            tags.append(tag)
    if any(len(t) > 50 or "\x00" in t for t in tags) or len(tags) > 20:
        checker.fail(field, _l("At most 20 tags of at most 50 characters each."))
        return []
    return tags


def touch(record):
    """Mark `record` changed although only its related rows changed, so that its version and
    `updated_at` move on and a concurrent edit of them is noticed."""
    record.updated_at = utcnow()


def soft_delete(record):
    record.deleted_at = utcnow()


def restore(record):
    record.deleted_at = None
