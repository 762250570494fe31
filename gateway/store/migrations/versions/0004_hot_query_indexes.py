"""Indexes the per-message queries can use from end to end (checked with EXPLAIN QUERY PLAN).

- messages (sender, code, identificatie, received_at, id): the idempotency lookup of every message
  (same sender, type, identificatie and bytes, earliest first). With only (sender, code,
  identificatie) SQLite served its ORDER BY from (sender, received_at, id) instead and scanned every
  message of the sender. The new index starts with the old one's columns, which it replaces.
- prestaties (law, aanbieder, toewijzingnummer): a 323's earlier debits per toewijzing (TR388 and
  friends) are looked up without the gemeente; they scanned every prestatie of the aanbieder.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 00:10:00
"""

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index(
            'ix_messages_ident_received', ['sender', 'code', 'identificatie', 'received_at', 'id'], unique=False
        )
        batch_op.drop_index('ix_messages_ident')
    with op.batch_alter_table('prestaties', schema=None) as batch_op:
        batch_op.create_index('ix_prestaties_aanbieder_allocation', ['law', 'aanbieder', 'toewijzingnummer'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('prestaties', schema=None) as batch_op:
        batch_op.drop_index('ix_prestaties_aanbieder_allocation')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_ident', ['sender', 'code', 'identificatie'], unique=False)
        batch_op.drop_index('ix_messages_ident_received')
