"""StUF-GGk outbound: parties reached through the chain (and their SOAP endpoint), the Di01s the
gateway sends, Fo01s received, and the index that links a returning Du01 to our envelope.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 12:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_index('ix_message_envelopes_cross_ref', 'message_envelopes', ['cross_refnummer'])
    op.create_table(
        'ggk_parties',
        sa.Column('party_id', sa.String(length=16), nullable=False),
        sa.Column('soap_url', sa.String(length=500), nullable=True),
        sa.Column('wsdl_url', sa.String(length=500), nullable=True),
        sa.Column('tls_ca', sa.String(length=500), nullable=True),
        sa.Column('tls_cert', sa.String(length=500), nullable=True),
        sa.Column('tls_key', sa.String(length=500), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['party_id'], ['parties.party_id'],
                                name='fk_ggk_parties_party_id_parties'),
        sa.PrimaryKeyConstraint('party_id', name='pk_ggk_parties'),
    )
    op.create_table(
        'outgoing_envelopes',
        sa.Column('referentienummer', sa.String(length=40), nullable=False),
        sa.Column('message_id', sa.String(length=26), nullable=False),
        sa.Column('berichtcode', sa.String(length=4), nullable=False),
        sa.Column('zender', sa.String(length=64), nullable=False),
        sa.Column('ontvanger', sa.String(length=64), nullable=False),
        sa.Column('functie', sa.String(length=8), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'],
                                name='fk_outgoing_envelopes_message_id_messages'),
        sa.PrimaryKeyConstraint('referentienummer', name='pk_outgoing_envelopes'),
    )
    op.create_index('ix_outgoing_envelopes_message', 'outgoing_envelopes', ['message_id'])
    op.create_table(
        'received_fo01',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('zender', sa.String(length=64), nullable=False),
        sa.Column('ontvanger', sa.String(length=64), nullable=True),
        sa.Column('referentienummer', sa.String(length=40), nullable=False),
        sa.Column('cross_refnummer', sa.String(length=40), nullable=True),
        sa.Column('code', sa.String(length=8), nullable=False),
        sa.Column('plek', sa.String(length=8), nullable=False),
        sa.Column('omschrijving', sa.String(length=255), nullable=False),
        sa.Column('details', sa.Text(), nullable=True),
        sa.Column('fo01', sa.LargeBinary(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('message_id', sa.String(length=26), nullable=True),
        sa.Column('transport', sa.String(length=16), nullable=True),
        sa.Column('received_by', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'],
                                name='fk_received_fo01_message_id_messages'),
        sa.PrimaryKeyConstraint('id', name='pk_received_fo01'),
        sa.UniqueConstraint('zender', 'referentienummer', name='uq_received_fo01_reference'),
    )
    op.create_index('ix_received_fo01_message', 'received_fo01', ['message_id'])
    op.create_index('ix_received_fo01_cross_ref', 'received_fo01', ['cross_refnummer'])
    op.create_index('ix_received_fo01_received', 'received_fo01', ['received_at', 'id'])


def downgrade() -> None:
    op.drop_table('received_fo01')
    op.drop_table('outgoing_envelopes')
    op.drop_table('ggk_parties')
    op.drop_index('ix_message_envelopes_cross_ref', table_name='message_envelopes')
