"""Pairs of records a user has marked as not duplicates.

Revision ID: f0b025b5858b
Revises: 43bf6f5daf54
Create Date: 2026-12-06 04:07:00.745846

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f0b025b5858b'
down_revision = '43bf6f5daf54'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "distinct_pairs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_type", sa.String(length=20), nullable=False),
        sa.Column("first_id", sa.Integer(), nullable=False),
        sa.Column("second_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_distinct_pairs_user_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_distinct_pairs")),
        sa.UniqueConstraint("record_type", "first_id", "second_id",
                            name=op.f("uq_distinct_pairs_record_type")),
    )
    op.create_index(op.f("ix_distinct_pairs_created_at"), "distinct_pairs", ["created_at"])


def downgrade():
    op.drop_index(op.f("ix_distinct_pairs_created_at"), table_name="distinct_pairs")
    op.drop_table("distinct_pairs")
