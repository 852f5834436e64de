"""The form that names a view of a list."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField


class SavedViewForm(FlaskForm):
    """The name of the view; which list and its query string come along hidden."""

    name = StringField(_l("Name of the view"), render_kw={"maxlength": 100, "autocomplete": "off"})
    list_name = HiddenField()
    query = HiddenField()
