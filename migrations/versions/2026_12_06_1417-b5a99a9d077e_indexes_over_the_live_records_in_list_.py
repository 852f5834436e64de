"""Indexes over the live records in list order, and over the open follow-ups.

PostgreSQL reads `WHERE deleted_at IS NULL ORDER BY name_sort` along an index only if the
index holds the live records alone, so the list indexes become partial ones; the deleted
records (the bin) get partial indexes of their own.

Revision ID: b5a99a9d077e
Revises: f0b025b5858b
Create Date: 2026-12-06 14:17:04.663569

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b5a99a9d077e'
down_revision = 'f0b025b5858b'
branch_labels = None
depends_on = None

LIVE = "deleted_at IS NULL"
DELETED = "deleted_at IS NOT NULL"

# (name, table, columns before, columns after): each becomes partial over the live records
CHANGED = [
    ("ix_contacts_list", "contacts", ["deleted_at", "name_sort", "id"], ["name_sort", "id"]),
    ("ix_organisations_list", "organisations", ["deleted_at", "name_sort", "id"],
     ["name_sort", "id"]),
    ("ix_leads_board", "leads", ["deleted_at", "stage", "status"],
     ["stage", "capex_eur", "id", "status", "new_jobs", "likelihood", "is_confidential",
      "owner_id", "deleted_at"]),
]
ADDED = [
    ("ix_contacts_bin", "contacts", ["name_sort", "id"], DELETED),
    ("ix_contacts_live", "contacts", ["id"], LIVE),
    ("ix_organisations_live", "organisations", ["id"], LIVE),
    ("ix_organisations_bin", "organisations", ["name_sort", "id"], DELETED),
    ("ix_leads_recent", "leads", ["updated_at", "id"], LIVE),
    ("ix_leads_sector_stage", "leads", ["sector", "stage", "updated_at"], LIVE),
    ("ix_activities_open_follow_ups", "activities", ["due_on", "id", "assignee_id"],
     "due_on IS NOT NULL AND done_at IS NULL AND deleted_at IS NULL"),
]


def _partial(name, table, columns, where):
    # Plain create_index, no batch mode: on SQLite a batch would copy the table, and the
    # full-text tables' triggers with it.
    op.create_index(name, table, columns, unique=False, sqlite_where=sa.text(where),
                    postgresql_where=sa.text(where))


def upgrade():
    for name, table, _before, after in CHANGED:
        op.drop_index(name, table_name=table)
        _partial(name, table, after, LIVE)
    for name, table, columns, where in ADDED:
        _partial(name, table, columns, where)


def downgrade():
    for name, table, _columns, _where in ADDED:
        op.drop_index(name, table_name=table)
    for name, table, before, _after in CHANGED:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, before, unique=False)
