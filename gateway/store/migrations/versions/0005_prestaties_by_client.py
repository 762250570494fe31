"""Index prestaties by client: the console's client chain finds declarations by client key.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 00:25:00
"""

from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('prestaties', schema=None) as batch_op:
        batch_op.create_index('ix_prestaties_client', ['client_key', 'message_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('prestaties', schema=None) as batch_op:
        batch_op.drop_index('ix_prestaties_client')
