"""Full-text search: notes get a folded search column; every search column gets an index.

SQLite: an FTS5 table `<table>_fts` with the trigram tokenizer over `search_text`, its content
read from the table itself and kept in step by three triggers. PostgreSQL: a trigram GIN index
(`pg_trgm`) on `search_text`. Both answer `LIKE '%word%'` (see `crm/core/fulltext.py`).

A later migration that rebuilds one of these tables on SQLite (a batch operation that copies
the table) drops its triggers with it: it must call `create_sqlite_index(table)` again.

Revision ID: b4e1c7d2a9f3
Revises: 6598ef16c2ac
Create Date: 2026-12-03 21:50:00.000000

"""
import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b4e1c7d2a9f3'
down_revision = '6598ef16c2ac'
branch_labels = None
depends_on = None

TABLES = ('organisations', 'contacts', 'events', 'leads', 'activities')


def fold(text):
    """`crm.core.text.search_key` as it was when this migration was written."""
    decomposed = unicodedata.normalize('NFKD', (text or '').casefold())
    stripped = ''.join(c for c in decomposed if not unicodedata.combining(c))
    folded = unicodedata.normalize('NFC', stripped)
    for spelling, letter in (('ae', 'a'), ('oe', 'o'), ('ue', 'u')):
        folded = folded.replace(spelling, letter)
    return ' '.join(folded.split())


def create_sqlite_index(table):
    op.execute(f"CREATE VIRTUAL TABLE {table}_fts USING fts5(search_text, content='{table}', "
               f"content_rowid='id', tokenize='trigram')")
    op.execute(f"CREATE TRIGGER {table}_fts_insert AFTER INSERT ON {table} BEGIN "
               f"INSERT INTO {table}_fts(rowid, search_text) VALUES (new.id, new.search_text); "
               f"END")
    op.execute(f"CREATE TRIGGER {table}_fts_delete AFTER DELETE ON {table} BEGIN "
               f"INSERT INTO {table}_fts({table}_fts, rowid, search_text) "
               f"VALUES ('delete', old.id, old.search_text); END")
    op.execute(f"CREATE TRIGGER {table}_fts_update AFTER UPDATE OF search_text ON {table} "
               f"BEGIN INSERT INTO {table}_fts({table}_fts, rowid, search_text) "
               f"VALUES ('delete', old.id, old.search_text); "
               f"INSERT INTO {table}_fts(rowid, search_text) VALUES (new.id, new.search_text); "
               f"END")
    op.execute(f"INSERT INTO {table}_fts({table}_fts) VALUES ('rebuild')")


def upgrade():
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=False,
                                      server_default=''))
    connection = op.get_bind()
    activities = sa.table('activities', sa.column('id'), sa.column('body'),
                          sa.column('search_text'))
    rows = connection.execute(sa.select(activities.c.id, activities.c.body)).all()
    for start in range(0, len(rows), 1000):
        connection.execute(
            activities.update().where(activities.c.id == sa.bindparam('row_id'))
            .values(search_text=sa.bindparam('folded')),
            [{'row_id': row.id, 'folded': fold(row.body)} for row in rows[start:start + 1000]])
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.alter_column('search_text', server_default=None)

    if connection.dialect.name == 'sqlite':
        for table in TABLES:
            create_sqlite_index(table)
    else:
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        for table in TABLES:
            op.execute(f'CREATE INDEX ix_{table}_search_trgm ON {table} '
                       f'USING gin (search_text gin_trgm_ops)')


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        for table in TABLES:
            for trigger in ('insert', 'delete', 'update'):
                op.execute(f'DROP TRIGGER IF EXISTS {table}_fts_{trigger}')
            op.execute(f'DROP TABLE {table}_fts')
    else:
        for table in TABLES:
            op.execute(f'DROP INDEX ix_{table}_search_trgm')
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_column('search_text')
