"""The event form, the attendee form and the quick capture of a person met."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, StringField, TextAreaField

from crm.core.countries import country_choices
from crm.core.forms import Choice, Choices, EditForm, RecordForm
from crm.events.models import AttendanceStatus, EventKind


class EventForm(RecordForm):
    name = StringField(_l("Name"), render_kw={"maxlength": 300})
    kind = Choice(_l("Kind"), choices=EventKind.choices)
    parent_id = Choice(_l("Part of the trip"), choices=[])
    starts_on = StringField(_l("Starts on"), render_kw={"type": "date"})
    ends_on = StringField(_l("Ends on"), render_kw={"type": "date"},
                          description=_l("Empty for a one-day event."))
    city = StringField(_l("City"), render_kw={"maxlength": 200})
    country = Choice(_l("Country"), choices=lambda: [("", "–")] + country_choices())
    partner_ids = Choices(_l("Partner organisations (co-organisers)"), choices=[], coerce=str)
    team_member_ids = Choices(_l("Team members"), choices=[], coerce=str)
    cost_eur = StringField(
        _l("Cost (EUR)"), render_kw={"inputmode": "decimal"},
        description=_l("What the trip or event cost the agency: travel, venue, catering, fees. "
                       "Used for cost per lead and per job in the reports."))
    description = TextAreaField(_l("Description"), render_kw={"rows": 5})

    def service_data(self):
        data = super().service_data()
        data["parent_id"] = data["parent_id"] or None
        return data


class EventEditForm(EditForm, EventForm):
    pass


class AttendeeForm(FlaskForm):
    contact = StringField(_l("Person"),
                          description=_l("Type to find the person, or enter their email address."))
    status = Choice(_l("Status"), choices=AttendanceStatus.choices,
                    default=AttendanceStatus.ATTENDED.value)


class CaptureForm(FlaskForm):
    """"A person met here": everything in one form, quick on a phone."""

    first_name = StringField(_l("First name"), render_kw={"autocomplete": "off"})
    last_name = StringField(_l("Last name"), render_kw={"autocomplete": "off"})
    latin_name = StringField(_l("Name in Latin letters"), render_kw={"autocomplete": "off"},
                             description=_l("For a name in another script, e.g. Kim Min-jung."))
    organisation = StringField(_l("Organisation"),
                               description=_l("Type to find one, or enter a new name."))
    position = StringField(_l("Position"))
    email = EmailField(_l("Email address"), render_kw={"autocomplete": "off"})
    phone = StringField(_l("Phone"), render_kw={"type": "tel", "autocomplete": "off"})
    mobile = StringField(_l("Mobile"), render_kw={"type": "tel", "autocomplete": "off"})
    note = TextAreaField(_l("First note"), render_kw={"rows": 3})

    def service_data(self):
        return {name: field.data for name, field in self._fields.items()
                if name != "csrf_token"}
