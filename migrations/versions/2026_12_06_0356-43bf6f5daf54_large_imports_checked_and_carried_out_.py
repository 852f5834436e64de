"""Large imports checked and carried out in the background, with their progress.

Revision ID: 43bf6f5daf54
Revises: f7f701f5b6a1
Create Date: 2026-12-06 03:56:29.375121

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '43bf6f5daf54'
down_revision = 'f7f701f5b6a1'
branch_labels = None
depends_on = None

COLUMNS = ("job", "job_state", "job_options", "rows_done", "job_result", "job_seen_at")


def upgrade():
    op.add_column("import_uploads", sa.Column("job", sa.String(length=10), nullable=True))
    op.add_column("import_uploads", sa.Column("job_state", sa.String(length=10), nullable=True))
    op.add_column("import_uploads", sa.Column("job_options", sa.JSON(), nullable=True))
    op.add_column("import_uploads", sa.Column("rows_done", sa.Integer(), server_default="0",
                                              nullable=False))
    op.add_column("import_uploads", sa.Column("job_result", sa.JSON(), nullable=True))
    op.add_column("import_uploads", sa.Column("job_seen_at", sa.DateTime(timezone=True),
                                              nullable=True))
    op.add_column("contact_imports", sa.Column("in_progress", sa.Boolean(),
                                               server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table("contact_imports") as batch_op:  # no triggers to lose
        batch_op.drop_column("in_progress")
    with op.batch_alter_table("import_uploads") as batch_op:  # no triggers to lose
        for column in reversed(COLUMNS):
            batch_op.drop_column(column)
