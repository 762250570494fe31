"""An outbox row whose payload is its message's raw or retour names that column (payload_of)
instead of carrying a copy (payload b""): the message to its receiver and the retour to its
sender copied some 2 KB per message into the outbox, on SQLite about a page of that table each.
Rows written before keep their payload (payload_of NULL) and read as they did.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 10:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('outbox', sa.Column('payload_of', sa.String(length=8), nullable=True))


def downgrade() -> None:
    # the bytes back into the rows first (as the message keeps them: in its row, or apart)
    for column in ('raw', 'retour'):
        op.execute(f"UPDATE outbox SET payload = (SELECT m.{column} FROM messages m WHERE m.id = outbox.message_id), "
                   f"payload_ref = (SELECT m.{column}_ref FROM messages m WHERE m.id = outbox.message_id) "
                   f"WHERE payload_of = '{column}'")
    op.drop_column('outbox', 'payload_of')
