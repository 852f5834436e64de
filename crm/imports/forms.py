"""The upload form of an import."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField


class UploadForm(FlaskForm):
    """The file, and optionally the event where everyone in it was met."""

    file = FileField(_l("CSV or Excel file"),
                     description=_l("A badge scanner's export, a partner's attendee list, a list "
                                    "saved by Excel: UTF-8 or Windows-1252, separated by ; , or "
                                    "tab; an .xlsx workbook; or vCards (.vcf) from a phone or a "
                                    "card-scanning app."))
    event_id = SelectField(_l("Record everyone at this event"), choices=[], validate_choice=False)
    status = SelectField(_l("As"), choices=[], validate_choice=False)
