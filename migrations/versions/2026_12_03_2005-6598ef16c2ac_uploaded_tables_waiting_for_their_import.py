"""Uploaded tables waiting for their import.

Revision ID: 6598ef16c2ac
Revises: 6ec288b79271
Create Date: 2026-12-03 20:05:56.738726

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '6598ef16c2ac'
down_revision = '6ec288b79271'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'import_uploads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'],
                                name=op.f('fk_import_uploads_event_id_events'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_import_uploads_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_import_uploads')),
    )
    with op.batch_alter_table('import_uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_uploads_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('import_uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_uploads_user_id'))
    op.drop_table('import_uploads')
