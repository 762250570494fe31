"""Large values in a table of their own: on SQLite a message's bytes, its retour, its issues or an
outbox payload of a MiB or more is kept in large_values (the value the row's last column, written through
the blob API), the row keeping b"" and the value's id in <column>_ref; an outbox row with the same
bytes as its message refers to the same value. In the middle of the message row SQLite expanded
the value in memory in full to write it (+350 MB for a rejected declaration of 100,000
prestaties, whose 325 went into the outbox a second time). PostgreSQL keeps values in their rows.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 23:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        'large_values',
        sa.Column('id', _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_large_values')),
    )
    op.add_column('messages', sa.Column('raw_ref', sa.BigInteger(), nullable=True))
    op.add_column('messages', sa.Column('retour_ref', sa.BigInteger(), nullable=True))
    op.add_column('messages', sa.Column('issues_ref', sa.BigInteger(), nullable=True))
    op.add_column('outbox', sa.Column('payload_ref', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    # the values back into their rows first: nothing is lost going down (only SQLite has refs)
    if op.get_bind().dialect.name == 'sqlite':
        for table, column, value in (('messages', 'raw', 'data'), ('messages', 'retour', 'data'),
                                     ('messages', 'issues', 'CAST(data AS TEXT)'), ('outbox', 'payload', 'data')):
            op.execute(f"UPDATE {table} SET {column} = (SELECT {value} FROM large_values WHERE id = {column}_ref) "
                       f"WHERE {column}_ref IS NOT NULL")
    op.drop_column('outbox', 'payload_ref')
    op.drop_column('messages', 'issues_ref')
    op.drop_column('messages', 'retour_ref')
    op.drop_column('messages', 'raw_ref')
    op.drop_table('large_values')
