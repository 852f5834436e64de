"""The contact form and the affiliation form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, StringField

from crm.contacts.models import CONTACT_LANGUAGES, LegalBasis, language_name
from crm.core.forms import Choice, EditForm, RecordForm
from crm.core.routing import parse_id


def _language_choices():
    return [("", "–")] + sorted(((c, language_name(c)) for c in CONTACT_LANGUAGES),
                                key=lambda c: c[1])


class ContactForm(RecordForm):
    academic_title = StringField(_l("Academic title"), render_kw={"maxlength": 50})
    first_name = StringField(_l("First name"), render_kw={"maxlength": 100,
                                                           "autocomplete": "off"})
    last_name = StringField(_l("Last name"), render_kw={"maxlength": 100, "autocomplete": "off"})
    latin_name = StringField(
        _l("Name in Latin letters"), render_kw={"maxlength": 200},
        description=_l("For a name written in another script, e.g. “Kim Min-jung” for 김민정."))
    position = StringField(_l("Position"), render_kw={"maxlength": 200})
    email = EmailField(_l("Email address"), render_kw={"maxlength": 254, "autocomplete": "off"})
    phone = StringField(_l("Phone"), render_kw={"type": "tel", "autocomplete": "off"})
    mobile = StringField(_l("Mobile"), render_kw={"type": "tel", "autocomplete": "off"})
    language = Choice(_l("Preferred language"), choices=_language_choices)
    owner_id = Choice(_l("Owner"), choices=[], coerce=str)
    legal_basis = Choice(_l("Legal basis"), choices=LegalBasis.choices,
                         description=_l("Why the agency may keep this person's data."))
    source = StringField(_l("Source"), render_kw={"maxlength": 300},
                         description=_l("How we got the data, e.g. “business card, Seoul 2024”."))
    informed_on = StringField(
        _l("Informed on"), render_kw={"type": "date"},
        description=_l("The day the person was told that we keep their data (Art. 14 DSGVO)."))
    marketing_consent = BooleanField(
        _l("Agrees to newsletters and invitations"),
        description=_l("Consent to marketing, kept apart from the legal basis."))
    do_not_contact = BooleanField(
        _l("Do not contact"),
        description=_l("The person objected or asked not to be contacted: no follow-ups and "
                       "no mailings."))
    tags = StringField(_l("Tags"), description=_l("Separated by commas."))

    def service_data(self):
        data = super().service_data()
        data["owner_id"] = data["owner_id"] or None
        return data


class ContactCreateForm(ContactForm):
    """A new contact, with the organisation they belong to (more can be added later)."""

    organisation = StringField(_l("Organisation"),
                               description=_l("Type to find one; new organisations are made on "
                                              "the organisations page."))
    organisation_role = StringField(_l("Role in the organisation"), render_kw={"maxlength": 200})

    def service_data(self):
        data = super().service_data()
        organisation, role = data.pop("organisation"), data.pop("organisation_role")
        organisation_id = parse_id(organisation)
        data["affiliations"] = ([{"organisation_id": organisation_id, "role": role,
                                  "is_current": True}] if organisation_id else [])
        return data


class ContactEditForm(EditForm, ContactForm):
    pass


class AffiliationForm(FlaskForm):
    organisation = StringField(_l("Organisation"),
                               description=_l("Type to find one, or enter a new name."))
    role = StringField(_l("Role"), render_kw={"maxlength": 200})
    is_current = BooleanField(_l("Current"), default=True)
