"""Data protection of a contact: informed, marketing consent, do not contact, review, erased.

Revision ID: 7d2e4b9c1a60
Revises: 3c1f0e7a9b52
Create Date: 2026-12-03 15:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '7d2e4b9c1a60'
down_revision = '3c1f0e7a9b52'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('informed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('marketing_consent', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('do_not_contact', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('retention_reviewed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
        batch_op.drop_column('retention_reviewed_on')
        batch_op.drop_column('do_not_contact')
        batch_op.drop_column('marketing_consent')
        batch_op.drop_column('informed_on')
