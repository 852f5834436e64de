"""The cost of an event or delegation trip, for cost per lead and per job in the reports.

Revision ID: d9ee23438e09
Revises: 1b6704438e13
Create Date: 2026-11-22 03:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd9ee23438e09'
down_revision = '1b6704438e13'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cost_eur', sa.BigInteger(), nullable=True))
        batch_op.create_check_constraint(batch_op.f('ck_events_cost_not_negative'),
                                         'cost_eur IS NULL OR cost_eur >= 0')


def downgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_events_cost_not_negative'), type_='check')
        batch_op.drop_column('cost_eur')
