"""The erasure form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField


class EraseForm(FlaskForm):
    confirm = BooleanField(_l("I have checked that no duty to keep this person's data applies "
                              "(e.g. funding files, contracts)."))
