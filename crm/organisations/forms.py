"""The organisation form."""

from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField

from crm.core.countries import country_choices
from crm.core.forms import Choice, Choices, EditForm, RecordForm
from crm.organisations.models import OrganisationKind, Sector
from crm.organisations.queries import reference_to_id


def _country_choices():
    return [("", "–")] + country_choices()


class OrganisationForm(RecordForm):
    name = StringField(_l("Name"), render_kw={"maxlength": 300, "autocomplete": "organization"})
    kind = Choice(_l("Kind"), choices=OrganisationKind.choices)
    country = Choice(_l("Country"), choices=_country_choices)
    city = StringField(_l("City"), render_kw={"maxlength": 200})
    address = TextAreaField(_l("Address"), render_kw={"rows": 3})
    website = StringField(_l("Website"), render_kw={"type": "url", "inputmode": "url",
                                                     "placeholder": "https://"})
    sectors = Choices(_l("Sectors"), choices=Sector.choices)
    tags = StringField(_l("Tags"), description=_l("Separated by commas."))
    parent_id = StringField(_l("Part of (parent organisation)"),
                            description=_l("For a subsidiary: the group it belongs to."))
    description = TextAreaField(_l("Description"), render_kw={"rows": 5})

    def service_data(self):
        data = super().service_data()
        data["parent_id"] = reference_to_id(data["parent_id"])
        return data


class OrganisationEditForm(EditForm, OrganisationForm):
    pass
