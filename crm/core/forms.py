"""Helpers shared by the forms of every area.

The forms of the record areas only carry and render the fields; the services check them
(for the pages, the API and imports alike) and their errors are shown beside the fields.
"""

from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Optional
from wtforms.widgets import HiddenInput

from crm.core.models import utcnow
from crm.core.services import ConflictError, ServiceError
from crm.extensions import db


def apply_errors(form, error):
    """Show a service's refusal beside the fields it names; the rest goes to `form.form_errors`."""
    for name, messages in error.fields.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + [str(m) for m in messages]
        else:
            form.form_errors.append(str(error.message))
    if not error.fields:
        form.form_errors.append(str(error.message))


def is_safe_redirect(target):
    """Whether `target` is a path on this site (no scheme, no host, no `//` or backslash trick)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and all(ord(c) >= 32 for c in target)


class Choice(SelectField):
    """A select whose value the service checks (so a bad value is explained, not just refused)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("validate_choice", False)
        super().__init__(*args, **kwargs)


class Choices(SelectMultipleField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("validate_choice", False)
        super().__init__(*args, **kwargs)


class RecordForm(FlaskForm):
    """A record's form: its fields, the version it was loaded at, and the duplicate override."""

    version = IntegerField(widget=HiddenInput(), validators=[Optional()])
    confirm_duplicate = BooleanField(_l("Yes, create it anyway"))

    def service_data(self):
        """The fields as the service takes them (without CSRF token, version and override)."""
        skip = {"csrf_token", "version", "loaded_at", "confirm_duplicate"}
        return {name: field.data for name, field in self._fields.items() if name not in skip}


class OpenedAtMixin:
    """For an edit form: when it was opened, so that a conflict can show what others saved
    since (see `run_service`). Put it before the form class it joins."""

    loaded_at = StringField(widget=HiddenInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_submitted():
            self.loaded_at.data = utcnow().isoformat()


class EditForm(OpenedAtMixin, RecordForm):
    """A record's edit form: also when it was opened, to show what others saved since."""

    version = IntegerField(widget=HiddenInput(), validators=[InputRequired(
        message=_l("The form is incomplete. Reload the page and make your changes again."))])


def run_service(form, call, record=None):
    """Save through a service; a refusal goes beside the form's fields.

    Returns `(result, None)` on success, or `(None, status)` with 409 for a conflict or a
    possible duplicate (`form.duplicates` lists the existing records) and 422 otherwise.

    A conflict on an edit form of `record` keeps the user's entries, moves the form to the
    record's current version and sets `form.conflict` (record type, id, since when), so that
    the page can list what others saved meanwhile (`changes_since` in the templates) and the
    user decides: save again to replace it, or discard their entries.
    """
    try:
        return call(), None
    except ServiceError as error:
        db.session.rollback()
        form.duplicates = getattr(error, "duplicates", [])
        if isinstance(error, ConflictError) and record is not None \
                and hasattr(form, "loaded_at"):
            form.conflict = {"record_type": record.__tablename__, "record_id": record.id,
                             "since": form.loaded_at.data}
            form.version.raw_data, form.version.data = [], record.version
            form.loaded_at.data = utcnow().isoformat()
        else:
            apply_errors(form, error)
        return None, error.status

