"""Obligations per stored message (deadline monitoring, gateway.deadlines).

Revision ID: 0006_obligations
Revises: 0005
Create Date: 2026-11-30 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0006_obligations'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'obligations',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('obligation', sa.String(length=40), nullable=False),
        sa.Column('op', sa.String(length=16), nullable=False),
        sa.Column('message_id', sa.String(length=26), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('standard', sa.String(length=8), nullable=False),
        sa.Column('party', sa.String(length=16), nullable=False),
        sa.Column('counterparty', sa.String(length=16), nullable=False),
        sa.Column('client_key', sa.String(length=64), nullable=True),
        sa.Column('opened', sa.Date(), nullable=False),
        sa.Column('due', sa.Date(), nullable=True),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('closed_by', sa.String(length=26), nullable=True),
        sa.Column('closed', sa.Date(), nullable=True),
        sa.Column('note', sa.String(length=200), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('overdue_notified_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('obligation', 'message_id', name='uq_obligations_message'),
    )
    with op.batch_alter_table('obligations', schema=None) as batch_op:
        batch_op.create_index('ix_obligations_party', ['party', 'state', 'due'], unique=False)
        batch_op.create_index('ix_obligations_state', ['state', 'due'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('obligations', schema=None) as batch_op:
        batch_op.drop_index('ix_obligations_state')
        batch_op.drop_index('ix_obligations_party')
    op.drop_table('obligations')
