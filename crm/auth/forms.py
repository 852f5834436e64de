"""Forms of the accounts area. They check shape; the services check the rules."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length
from wtforms.widgets import HiddenInput

from crm.auth.models import Language, Role
from crm.core.forms import OpenedAtMixin


class LoginForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)],
                             render_kw={"autocomplete": "current-password"})


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=12, max=256)],
        description=_l("At least 12 characters. A sentence you can remember works well."),
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(),
                    EqualTo("new_password", message=_l("The passwords do not match."))],
        render_kw={"autocomplete": "new-password"},
    )


class LanguageForm(FlaskForm):
    language = SelectField(_l("Language"), choices=Language.choices, validators=[DataRequired()])


class TokenForm(FlaskForm):
    """A new API token of one's own."""

    name = StringField(_l("Name of the token"), validators=[DataRequired(), Length(max=100)],
                       description=_l("What it is for, e.g. “Newsletter sync”."))
    read_only = BooleanField(_l("Read only"),
                             description=_l("The token may read, but change nothing."))


class UserForm(FlaskForm):
    """An account as an admin creates or edits it."""

    email = EmailField(_l("Email address"), validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Role"), choices=Role.choices, validators=[DataRequired()])
    language = SelectField(_l("Language"), choices=Language.choices, validators=[DataRequired()])


class UserEditForm(OpenedAtMixin, UserForm):
    """The account form with the version the admin started from, to catch concurrent edits."""

    version = IntegerField(widget=HiddenInput(), validators=[InputRequired(
        message=_l("The form is incomplete. Reload the page and make your changes again."))])
