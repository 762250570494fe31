"""The index on messages.replay_of holds only replays. Nearly every message is no replay (NULL),
yet each paid an index entry: in SQLite one more page written at every commit (a 28th of a bare
message's pages at one sender). The queries it serves look replays up by the message they
replay (replay_of = :id), which both databases answer from the partial index; `replay_of IS NULL`
filters never used it well (gateway.store.store: it once made SQLite scan the table).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 19:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

_WHERE = "replay_of IS NOT NULL"


def upgrade() -> None:
    op.drop_index('ix_messages_replay_of', table_name='messages')
    op.create_index('ix_messages_replay_of', 'messages', ['replay_of'],
                    sqlite_where=sa.text(_WHERE), postgresql_where=sa.text(_WHERE))


def downgrade() -> None:
    op.drop_index('ix_messages_replay_of', table_name='messages')
    op.create_index('ix_messages_replay_of', 'messages', ['replay_of'])
