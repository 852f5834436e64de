"""The webhook form. It carries the fields; the service checks them (see services._clean)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import InputRequired
from wtforms.widgets import HiddenInput

from crm.core.forms import Choices, OpenedAtMixin
from crm.webhooks.models import WebhookEvent


class WebhookForm(FlaskForm):
    url = StringField(_l("Address (URL)"),
                      description=_l("Where Lotse sends its messages, e.g. "
                                     "https://crm.example.org/hooks/lotse."))
    description = StringField(_l("Description"),
                              description=_l("Which program receives them, and who looks "
                                             "after it."))
    events = Choices(_l("Reported events"), choices=WebhookEvent.choices)
    is_active = BooleanField(_l("Active"), default=True,
                             description=_l("Switched off, the webhook is sent nothing."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_submitted() and not self.events.data:
            self.events.data = [e.value for e in WebhookEvent]  # all, unless chosen otherwise

    def service_data(self):
        return {name: getattr(self, name).data
                for name in ("url", "description", "events", "is_active")}


class WebhookEditForm(OpenedAtMixin, WebhookForm):
    """The form with the version the admin started from, to catch concurrent edits."""

    version = IntegerField(widget=HiddenInput(), validators=[InputRequired(
        message=_l("The form is incomplete. Reload the page and make your changes again."))])
