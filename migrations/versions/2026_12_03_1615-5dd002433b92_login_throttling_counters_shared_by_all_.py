"""Login throttling counters in the database, shared by every worker process.

Revision ID: 5dd002433b92
Revises: 2609bf9593ff
Create Date: 2026-12-03 16:15:22.584915

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5dd002433b92'
down_revision = '2609bf9593ff'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'rate_limits',
        sa.Column('key', sa.String(length=600), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('expires_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_limits'))
    )
    with op.batch_alter_table('rate_limits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_limits_expires_at'), ['expires_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('rate_limits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_limits_expires_at'))
    op.drop_table('rate_limits')
