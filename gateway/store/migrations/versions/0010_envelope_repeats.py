"""StUF-GGk: a further envelope that brought the payload of a message already stored (stored with
the Du01 that answered it; the message itself is not stored again).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 16:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        'envelope_repeats',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('message_id', sa.String(length=26), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('transport', sa.String(length=16), nullable=True),
        sa.Column('received_by', sa.String(length=64), nullable=True),
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
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'],
                                name='fk_envelope_repeats_message_id_messages'),
        sa.PrimaryKeyConstraint('id', name='pk_envelope_repeats'),
        sa.UniqueConstraint('zender', 'referentienummer', name='uq_envelope_repeats_reference'),
    )
    op.create_index('ix_envelope_repeats_message', 'envelope_repeats', ['message_id'])
    op.create_index('ix_envelope_repeats_answer_ref', 'envelope_repeats', ['answer_referentienummer'])


def downgrade() -> None:
    op.drop_index('ix_envelope_repeats_answer_ref', table_name='envelope_repeats')
    op.drop_index('ix_envelope_repeats_message', table_name='envelope_repeats')
    op.drop_table('envelope_repeats')
