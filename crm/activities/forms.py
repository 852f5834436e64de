"""The activity form: the small one on every record's page, and the full one for editing."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField

from crm.activities.models import ActivityKind
from crm.auth.models import User
from crm.core.forms import Choice, EditForm, RecordForm
from crm.extensions import db


class ActivityForm(RecordForm):
    kind = Choice(_l("Kind"), choices=ActivityKind.choices, default=ActivityKind.NOTE.value)
    body = TextAreaField(_l("What happened"), render_kw={"rows": 3})
    occurred_at = StringField(_l("When"), render_kw={"type": "datetime-local"},
                              description=_l("Empty for now."))
    due_on = StringField(_l("Follow up on"), render_kw={"type": "date"},
                         description=_l("With a date this becomes a follow-up."))
    assignee_id = Choice(_l("Follow-up for"), choices=[],
                         description=_l("Empty for yourself."))

    def fill_choices(self, keep=None):
        """The colleagues a follow-up can be for (and its current assignee, if deactivated)."""
        users = [(str(uid), name) for uid, name in db.session.execute(
            sa.select(User.id, User.name).where(User.is_active.is_(True))
            .order_by(User.name_sort))]
        if keep is not None and str(keep.id) not in dict(users):
            users.append((str(keep.id), keep.name))
        self.assignee_id.choices = [("", "–")] + users

    def service_data(self):
        data = super().service_data()
        data["assignee_id"] = data["assignee_id"] or None
        return data


class ActivityEditForm(EditForm, ActivityForm):
    """The activity form with the version it was loaded at, to catch concurrent edits."""
