"""StUF-GGk envelopes stored with their message: the Di01/Du01 as received, its stuurgegevens
and parameters, and the Du01/Fo01 the gateway answered it with. (zender, referentienummer) is
unique (IB216).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 11:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'message_envelopes',
        sa.Column('message_id', sa.String(length=26), nullable=False),
        sa.Column('berichtcode', sa.String(length=4), nullable=False),
        sa.Column('zender', sa.String(length=64), nullable=False),
        sa.Column('zender_applicatie', sa.String(length=64), nullable=True),
        sa.Column('ontvanger', sa.String(length=64), nullable=True),
        sa.Column('referentienummer', sa.String(length=40), nullable=False),
        sa.Column('cross_refnummer', sa.String(length=40), nullable=True),
        sa.Column('functie', sa.String(length=8), nullable=True),
        sa.Column('functie_versie', sa.String(length=4), nullable=True),
        sa.Column('functie_subversie', sa.String(length=4), nullable=True),
        sa.Column('applicatie_versie', sa.String(length=4), nullable=True),
        sa.Column('applicatie_subversie', sa.String(length=4), nullable=True),
        sa.Column('tijdstip_bericht', sa.String(length=17), nullable=True),
        sa.Column('envelope', sa.LargeBinary(), nullable=False),
        sa.Column('envelope_sha256', sa.String(length=64), nullable=False),
        sa.Column('answer', sa.LargeBinary(), nullable=True),
        sa.Column('answer_code', sa.String(length=4), nullable=True),
        sa.Column('answer_referentienummer', sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id']),
        sa.PrimaryKeyConstraint('message_id'),
        sa.UniqueConstraint('zender', 'referentienummer', name='uq_message_envelopes_reference'),
    )


def downgrade() -> None:
    op.drop_table('message_envelopes')
