"""Every area's models, imported in one place before anything uses them, so that SQLAlchemy can
resolve the relationships between areas (which name later classes by string) and Alembic sees
the whole schema."""

from crm.activities.models import Activity, ReminderDigest
from crm.audit.models import AuditEntry
from crm.auth.models import ApiToken, RateLimitCounter, User
from crm.contacts.models import Affiliation, Contact, ContactTag
from crm.duplicates.models import DistinctPair, Merge
from crm.events.models import Attendance, Event
from crm.imports.models import ContactImport, ImportedRow, ImportUpload
from crm.leads.models import Lead, StageChange
from crm.organisations.models import Organisation, OrganisationSector, OrganisationTag
from crm.privacy.models import DataRequest
from crm.saved_views.models import SavedView
from crm.webhooks.models import Webhook, WebhookDelivery

__all__ = [
           "Activity",
           "Affiliation",
           "ApiToken",
           "Attendance",
           "AuditEntry",
           "Contact",
           "ContactImport",
           "ContactTag",
           "DataRequest",
           "DistinctPair",
           "Event",
           "ImportUpload",
           "ImportedRow",
           "Lead",
           "Merge",
           "Organisation",
           "OrganisationSector",
           "OrganisationTag",
           "RateLimitCounter",
           "ReminderDigest",
           "SavedView",
           "StageChange",
           "User",
           "Webhook",
           "WebhookDelivery",
]
