"""Saved views: a user's named filters and sorting of a list.

Revision ID: 6ec288b79271
Revises: 5dd002433b92
Create Date: 2026-12-03 19:42:39.627463

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '6ec288b79271'
down_revision = '5dd002433b92'
branch_labels = None
depends_on = None


def upgrade():
    # The unique constraint starts with user_id: it is also the index for a user's views.
    op.create_table(
        'saved_views',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('list_name', sa.String(length=20), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('query', sa.String(length=1000), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_saved_views_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_views')),
        sa.UniqueConstraint('user_id', 'list_name', 'name', name=op.f('uq_saved_views_user_id')),
    )


def downgrade():
    op.drop_table('saved_views')
