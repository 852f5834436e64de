"""The other record's version after a merge, which an undo requires.

Revision ID: f7f701f5b6a1
Revises: 76d5618700cb
Create Date: 2026-12-06 01:17:34.789212

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f7f701f5b6a1'
down_revision = '76d5618700cb'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("merges", sa.Column("other_version_after", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("merges") as batch_op:  # merges has no triggers to lose
        batch_op.drop_column("other_version_after")
