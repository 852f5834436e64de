"""Merges of duplicates, and a contact's folded name for finding them.

Revision ID: 76d5618700cb
Revises: 886c3b6e92da
Create Date: 2026-12-03 22:06:55.428087

"""
import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '76d5618700cb'
down_revision = '886c3b6e92da'
branch_labels = None
depends_on = None


def name_key(first_name, last_name):
    """`crm.core.text.name_key` as it was when this migration was written."""
    text = ' '.join(p for p in (first_name, last_name) if p)
    decomposed = unicodedata.normalize('NFKD', text.casefold())
    folded = unicodedata.normalize(
        'NFC', ''.join(c for c in decomposed if not unicodedata.combining(c)))
    for spelling, letter in (('ae', 'a'), ('oe', 'o'), ('ue', 'u')):
        folded = folded.replace(spelling, letter)
    words = ''.join(c if c.isalnum() else ' ' for c in folded).split()
    return ' '.join(sorted(words))[:300]


def upgrade():
    op.create_table(
        'merges',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('record_type', sa.String(length=20), nullable=False),
        sa.Column('kept_id', sa.Integer(), nullable=False),
        sa.Column('other_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('kept_before', sa.JSON(), nullable=False),
        sa.Column('other_before', sa.JSON(), nullable=False),
        sa.Column('moved', sa.JSON(), nullable=False),
        sa.Column('removed', sa.JSON(), nullable=False),
        sa.Column('changed', sa.JSON(), nullable=False),
        sa.Column('kept_version_after', sa.Integer(), nullable=False),
        sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('undone_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['undone_by_id'], ['users.id'],
                                name=op.f('fk_merges_undone_by_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_merges_user_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_merges')),
    )
    with op.batch_alter_table('merges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_merges_created_at'), ['created_at'], unique=False)

    # Plain ALTER TABLE on both databases: a batch operation would copy the contacts table on
    # SQLite and lose the triggers of its full-text index.
    op.execute("ALTER TABLE contacts ADD COLUMN name_key VARCHAR(300) DEFAULT '' NOT NULL")
    connection = op.get_bind()
    contacts = sa.table('contacts', sa.column('id'), sa.column('first_name'),
                        sa.column('last_name'), sa.column('erased_at'), sa.column('name_key'))
    rows = connection.execute(sa.select(contacts.c.id, contacts.c.first_name,
                                        contacts.c.last_name)
                              .where(contacts.c.erased_at.is_(None))).all()
    for start in range(0, len(rows), 1000):
        connection.execute(
            contacts.update().where(contacts.c.id == sa.bindparam('row_id'))
            .values(name_key=sa.bindparam('key')),
            [{'row_id': row.id, 'key': name_key(row.first_name, row.last_name)}
             for row in rows[start:start + 1000]])
    op.create_index(op.f('ix_contacts_name_key'), 'contacts', ['name_key'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_contacts_name_key'), table_name='contacts')
    op.execute('ALTER TABLE contacts DROP COLUMN name_key')
    with op.batch_alter_table('merges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_merges_created_at'))
    op.drop_table('merges')
