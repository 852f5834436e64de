"""A lead's last activity, for the stalled leads; activities indexed by lead and time.

Revision ID: 3c1f0e7a9b52
Revises: d9ee23438e09
Create Date: 2026-11-22 08:15:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '3c1f0e7a9b52'
down_revision = 'd9ee23438e09'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.create_index('ix_activities_lead_id_occurred_at', ['lead_id', 'occurred_at'],
                              unique=False)
        batch_op.drop_index(batch_op.f('ix_activities_lead_id'))
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_activity_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.create_index(batch_op.f('ix_leads_last_activity_at'), ['last_activity_at'],
                              unique=False)
    op.execute("UPDATE leads SET last_activity_at = (SELECT max(activities.occurred_at) "
               "FROM activities WHERE activities.lead_id = leads.id "
               "AND activities.deleted_at IS NULL)")


def downgrade():
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_leads_last_activity_at'))
        batch_op.drop_column('last_activity_at')
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activities_lead_id'), ['lead_id'], unique=False)
        batch_op.drop_index('ix_activities_lead_id_occurred_at')
