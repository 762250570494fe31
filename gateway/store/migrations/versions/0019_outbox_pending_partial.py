"""ix_outbox_pending holds only the rows waiting for delivery (Kafka topics, SOAP): a party's
stream row, most of the outbox and published only when the party acks, paid an entry that no
query read, on SQLite a page written at every commit. The queries for waiting rows (the
publishers' claims, the outbox depth and lag) carry the index's condition as it is written here.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 10:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

_WHERE = "published_at IS NULL AND destination <> 'stream'"


def upgrade() -> None:
    op.drop_index('ix_outbox_pending', table_name='outbox')
    op.create_index('ix_outbox_pending', 'outbox', ['published_at', 'id'],
                    sqlite_where=sa.text(_WHERE), postgresql_where=sa.text(_WHERE))


def downgrade() -> None:
    op.drop_index('ix_outbox_pending', table_name='outbox')
    op.create_index('ix_outbox_pending', 'outbox', ['published_at', 'id'])
