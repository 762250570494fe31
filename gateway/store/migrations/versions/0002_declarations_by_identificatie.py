"""Index declarations by BerichtIdentificatie: a 325 finds the 323 it answers (TR337, TR371).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 23:26:34.365175
"""

from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('declarations', schema=None) as batch_op:
        batch_op.create_index('ix_declarations_ident', ['law', 'aanbieder', 'identificatie'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('declarations', schema=None) as batch_op:
        batch_op.drop_index('ix_declarations_ident')

