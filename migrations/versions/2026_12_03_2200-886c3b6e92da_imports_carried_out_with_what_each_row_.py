"""Imports carried out, with what each row did, for the undo.

Revision ID: 886c3b6e92da
Revises: b4e1c7d2a9f3
Create Date: 2026-12-03 22:00:45.594645

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '886c3b6e92da'
down_revision = 'b4e1c7d2a9f3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'contact_imports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=True),
        sa.Column('counts', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('undone_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'],
                                name=op.f('fk_contact_imports_event_id_events'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['undone_by_id'], ['users.id'],
                                name=op.f('fk_contact_imports_undone_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_contact_imports_user_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_imports')),
    )
    with op.batch_alter_table('contact_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_imports_created_at'), ['created_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_contact_imports_user_id'), ['user_id'],
                              unique=False)

    op.create_table(
        'imported_rows',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('import_id', sa.Integer(), nullable=False),
        sa.Column('contact_id', sa.Integer(), nullable=True),
        sa.Column('created', sa.Boolean(), nullable=False),
        sa.Column('before', sa.JSON(), nullable=True),
        sa.Column('version_after', sa.Integer(), nullable=False),
        sa.Column('attendance_before', sa.String(length=20), nullable=True),
        sa.Column('organisation_created_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'],
                                name=op.f('fk_imported_rows_contact_id_contacts'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['import_id'], ['contact_imports.id'],
                                name=op.f('fk_imported_rows_import_id_contact_imports'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(
            ['organisation_created_id'], ['organisations.id'],
            name=op.f('fk_imported_rows_organisation_created_id_organisations'),
            ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_imported_rows')),
    )
    with op.batch_alter_table('imported_rows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_imported_rows_contact_id'), ['contact_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_imported_rows_import_id'), ['import_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('imported_rows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_imported_rows_import_id'))
        batch_op.drop_index(batch_op.f('ix_imported_rows_contact_id'))
    op.drop_table('imported_rows')
    with op.batch_alter_table('contact_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_imports_user_id'))
        batch_op.drop_index(batch_op.f('ix_contact_imports_created_at'))
    op.drop_table('contact_imports')
