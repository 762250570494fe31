"""StUF-GGk: the index that links a returning Du01 to our envelope holds only the rows that have a
crossRefnummer (Du01s). A Di01 has none, and every enveloped heenbericht paid an index entry (and,
in SQLite, a page written at its commit) that no query reads: the one query on the column
(gateway.store.ggk.answers, crossRefnummer IN our references) never looks for NULL.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 18:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_WHERE = "cross_refnummer IS NOT NULL"


def upgrade() -> None:
    op.drop_index('ix_message_envelopes_cross_ref', table_name='message_envelopes')
    op.create_index('ix_message_envelopes_cross_ref', 'message_envelopes', ['cross_refnummer'],
                    sqlite_where=sa.text(_WHERE), postgresql_where=sa.text(_WHERE))


def downgrade() -> None:
    op.drop_index('ix_message_envelopes_cross_ref', table_name='message_envelopes')
    op.create_index('ix_message_envelopes_cross_ref', 'message_envelopes', ['cross_refnummer'])
