"""The register of data-subject requests (DSGVO Art. 15 to 21) with their deadlines.

Revision ID: 2609bf9593ff
Revises: 7d2e4b9c1a60
Create Date: 2026-12-03 15:34:32.431628

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '2609bf9593ff'
down_revision = '7d2e4b9c1a60'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'data_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('requester', sa.String(length=200), nullable=False),
        sa.Column('contact_id', sa.Integer(), nullable=True),
        sa.Column('received_on', sa.Date(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('done_on', sa.Date(), nullable=True),
        sa.Column('done_by_id', sa.Integer(), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_data_requests_contact_id_contacts'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_data_requests_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['done_by_id'], ['users.id'], name=op.f('fk_data_requests_done_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_data_requests'))
    )
    with op.batch_alter_table('data_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_requests_contact_id'), ['contact_id'],
                              unique=False)
        batch_op.create_index('ix_data_requests_open', ['done_on', 'due_on'], unique=False)


def downgrade():
    with op.batch_alter_table('data_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_data_requests_open')
        batch_op.drop_index(batch_op.f('ix_data_requests_contact_id'))

    op.drop_table('data_requests')
