"""Declaration outcomes as stored facts: the 325 that answered a 323, and per prestatie its codes,
the amount granted and the message that decided it.

Revision ID: 0007
Revises: 0006_obligations
Create Date: 2026-12-06 11:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006_obligations'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('declarations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answer_message_id', sa.String(length=26), nullable=True))
        batch_op.add_column(sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_declarations_message', ['message_id'], unique=False)
    with op.batch_alter_table('prestaties', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retourcodes', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('granted', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('decided_by', sa.String(length=26), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('prestaties', schema=None) as batch_op:
        batch_op.drop_column('decided_by')
        batch_op.drop_column('granted')
        batch_op.drop_column('retourcodes')
    with op.batch_alter_table('declarations', schema=None) as batch_op:
        batch_op.drop_index('ix_declarations_message')
        batch_op.drop_column('answered_at')
        batch_op.drop_column('answer_message_id')
