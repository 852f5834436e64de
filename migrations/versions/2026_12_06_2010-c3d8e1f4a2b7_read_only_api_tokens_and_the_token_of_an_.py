"""Read-only API tokens, and the token an audited change came through.

Revision ID: c3d8e1f4a2b7
Revises: b5a99a9d077e
Create Date: 2026-12-06 20:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c3d8e1f4a2b7'
down_revision = 'b5a99a9d077e'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN, no batch mode: both databases add a column in place.
    op.add_column("api_tokens", sa.Column("is_read_only", sa.Boolean(), nullable=False,
                                          server_default=sa.false()))
    op.add_column("audit_entries", sa.Column("via", sa.String(length=130), nullable=True))


def downgrade():
    with op.batch_alter_table("audit_entries") as batch_op:
        batch_op.drop_column("via")
    with op.batch_alter_table("api_tokens") as batch_op:
        batch_op.drop_column("is_read_only")
