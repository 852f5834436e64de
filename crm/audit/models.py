"""The audit log: who changed what, and when."""

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.models import UTCDateTime, utcnow
from crm.extensions import db

# What each action is called on the page; an action without a label shows its code.
ACTION_LABELS = {
    "auth.login": _l("Logged in"),
    "auth.login_failed": _l("Failed login"),
    "database.backup": _l("Database backed up"),
    "auth.logout": _l("Logged out"),
    "access.refused": _l("Access refused"),
    "export": _l("Data exported"),
    "contacts.import": _l("Contacts imported"),
    "contacts.import_undo": _l("Import undone"),
    "contact.merge": _l("Contacts merged"),
    "contact.merge_undo": _l("Merge of contacts undone"),
    "organisation.merge": _l("Organisations merged"),
    "organisation.merge_undo": _l("Merge of organisations undone"),
    "duplicates.distinct": _l("Marked as not the same"),
    "duplicates.distinct_undo": _l("Offered as likely duplicates again"),
    "contact.import_remove": _l("Contact removed with its import"),
    "organisation.import_remove": _l("Organisation removed with its import"),
    "view.create": _l("View of a list saved"),
    "view.delete": _l("Saved view removed"),
    "user.create": _l("Account created"),
    "user.update": _l("Account changed"),
    "user.deactivate": _l("Account deactivated"),
    "user.reactivate": _l("Account reactivated"),
    "user.password_reset": _l("Password reset"),
    "user.password_change": _l("Password changed"),
    "token.create": _l("API token created"),
    "token.revoke": _l("API token revoked"),
    "organisation.create": _l("Organisation created"),
    "organisation.update": _l("Organisation changed"),
    "organisation.delete": _l("Organisation deleted"),
    "organisation.restore": _l("Organisation restored"),
    "contact.create": _l("Contact created"),
    "contact.update": _l("Contact changed"),
    "contact.delete": _l("Contact deleted"),
    "contact.restore": _l("Contact restored"),
    "contact.data_report": _l("Data held on the person looked up (Art. 15)"),
    "contact.erase": _l("Person's data erased (Art. 17)"),
    "contact.retention_keep": _l("Kept after the retention review"),
    "data_request.create": _l("Data-subject request registered"),
    "data_request.done": _l("Data-subject request answered"),
    "event.create": _l("Event created"),
    "event.update": _l("Event changed"),
    "event.delete": _l("Event deleted"),
    "event.restore": _l("Event restored"),
    "event.attendee_add": _l("Attendee added"),
    "event.attendee_update": _l("Attendee changed"),
    "event.attendee_remove": _l("Attendee removed"),
    "activity.create": _l("Activity recorded"),
    "activity.update": _l("Activity changed"),
    "activity.delete": _l("Activity deleted"),
    "activity.restore": _l("Activity restored"),
    "activity.done": _l("Follow-up done"),
    "activity.reopen": _l("Follow-up opened again"),
    "user.calendar_renew": _l("Calendar address created"),
    "user.calendar_disable": _l("Calendar address switched off"),
    "lead.create": _l("Lead created"),
    "lead.update": _l("Lead changed"),
    "lead.delete": _l("Lead deleted"),
    "lead.restore": _l("Lead restored"),
    "lead.stage": _l("Stage changed"),
    "lead.stage_override": _l("Stage changed without the requirements"),
    "lead.status": _l("Status changed"),
    "webhook.create": _l("Webhook registered"),
    "webhook.update": _l("Webhook changed"),
    "webhook.delete": _l("Webhook removed"),
    "webhook.secret": _l("New webhook secret made"),
    "webhook.resend": _l("Webhook delivery sent again"),
}

# What the fields and record types are called on the page; others show their code.
FIELD_LABELS = {
    "email": _l("Email address"),
    "name": _l("Name"),
    "role": _l("Role"),
    "language": _l("Language"),
    "is_active": _l("Active"),
    "title": _l("Title"),
    "stage": _l("Stage"),
    "status": _l("Status"),
    "override_reason": _l("Reason for the override"),
    "capex_eur": _l("CAPEX"),
    "new_jobs": _l("New jobs"),
    "safeguarded_jobs": _l("Safeguarded jobs"),
    "owner_id": _l("Owner"),
    "lost_reason": _l("Reason"),
    "lost_to": _l("Went to (country or region)"),
    "closed_on": _l("Date"),
    "first_name": _l("First name"),
    "last_name": _l("Last name"),
    "country": _l("Country"),
    "city": _l("City"),
    "kind": _l("Kind"),
    "attendee": _l("Attendee"),
    "legal_basis": _l("Legal basis"),
    "source": _l("Source"),
    "informed_on": _l("Informed on"),
    "marketing_consent": _l("Marketing consent"),
    "do_not_contact": _l("Do not contact"),
    "retention_reviewed_on": _l("Reviewed on"),
    "received_on": _l("Received on"),
    "due_on": _l("Due"),
    "done_on": _l("Answered"),
    "form": _l("Form"),
    "permission": _l("Permission needed"),
    "filters": _l("Filters"),
    "removed": _l("Removed"),
    "merged": _l("Merged"),
    "restored": _l("Restored"),
    "list_name": _l("List"),
    "query": _l("Filters and sorting"),
    "is_read_only": _l("Read only"),
    "url": _l("Address (URL)"),
    "description": _l("Description"),
    "events": _l("Reported events"),
    "secret": _l("Secret"),
    "delivery": _l("Delivery"),
}
RECORD_TYPE_LABELS = {
    "users": _l("User"),
    "api_tokens": _l("API token"),
    "organisations": _l("Organisation"),
    "contacts": _l("Contact"),
    "events": _l("Event"),
    "activities": _l("Activity"),
    "leads": _l("Lead"),
    "data_requests": _l("Data-subject request"),
    "saved_views": _l("Saved view"),
    "webhooks": _l("Webhook"),
    "contact_imports": _l("Import"),
    "distinct_pairs": _l("Pair marked as not the same"),
}


# Keys of `changes` that point to a record the entry is also about (the person an attendee
# entry names, found again by erasure), not shown on the page: the text beside them is.
REFERENCE_FIELDS = frozenset({"attendee_id", "merged_id"})


class AuditEntry(db.Model):
    """One change or security event, with the fields it changed (before and after)."""

    __tablename__ = "audit_entries"
    __table_args__ = (sa.Index("ix_audit_entries_record", "record_type", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, nullable=False, index=True
    )
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(sa.String(64), nullable=False, index=True)
    record_type: Mapped[str | None] = mapped_column(sa.String(40))
    record_id: Mapped[int | None] = mapped_column(sa.Integer)
    # What the record was called at the time, so the entry still reads well after a deletion.
    record_label: Mapped[str | None] = mapped_column(sa.String(300))
    # {"field": [before, after]}; never passwords or tokens (see services.record).
    changes: Mapped[dict | None] = mapped_column(sa.JSON)
    # The API token the change came through (its name and beginning), if it did.
    via: Mapped[str | None] = mapped_column(sa.String(130))

    actor: Mapped["User | None"] = relationship("User", lazy="raise")  # noqa: F821

    @property
    def action_label(self):
        return str(ACTION_LABELS.get(self.action, self.action))

    @property
    def record_type_label(self):
        return str(RECORD_TYPE_LABELS.get(self.record_type, self.record_type or ""))

    def labelled_changes(self):
        """The changes as `(field label, before, after)`, for the page."""
        return [(str(FIELD_LABELS.get(field, field)), before, after)
                for field, (before, after) in (self.changes or {}).items()
                if field not in REFERENCE_FIELDS]
