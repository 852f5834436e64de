"""The erasure form and the form of a data-subject request."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField

from crm.core.forms import Choice
from crm.privacy.models import RequestKind


class EraseForm(FlaskForm):
    confirm = BooleanField(_l("I have checked that no duty to keep this person's data applies "
                              "(e.g. funding files, contracts)."))


class RequestForm(FlaskForm):
    """A data-subject request as it comes in."""

    kind = Choice(_l("Request"), choices=RequestKind.choices)
    requester = StringField(_l("Who asked"), render_kw={"maxlength": 200},
                            description=_l("As they named themselves, e.g. name and email."))
    received_on = StringField(_l("Received on"), render_kw={"type": "date"},
                              description=_l("Due one month later (Art. 12 (3) DSGVO)."))
    contact_id = StringField(_l("Person in Lotse"),
                             description=_l("Type to find them, if they are in Lotse."))
    note = TextAreaField(_l("Note"), render_kw={"rows": 2})

    def service_data(self):
        """The fields as the service takes them (without the CSRF token)."""
        return {name: field.data for name, field in self._fields.items()
                if name != "csrf_token"}
