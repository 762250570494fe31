"""Initial schema: messages, cross-message state, outbox and streams, parties, administration.

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 22:41:41.360856
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=255), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_at', ['at', 'id'], unique=False)

    op.create_table('contract_bundles',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('region', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('yaml_text', sa.Text(), nullable=False),
    sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('loaded_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_bundles')),
    sa.UniqueConstraint('region', 'version', name=op.f('uq_contract_bundles_region_version'))
    )
    with op.batch_alter_table('contract_bundles', schema=None) as batch_op:
        batch_op.create_index('ix_contract_bundles_region', ['region', 'effective_from'], unique=False)

    op.create_table('messages',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('standard', sa.String(length=8), nullable=True),
    sa.Column('code', sa.String(length=8), nullable=True),
    sa.Column('sender', sa.String(length=16), nullable=True),
    sa.Column('receiver', sa.String(length=16), nullable=True),
    sa.Column('identificatie', sa.String(length=64), nullable=True),
    sa.Column('dagtekening', sa.Date(), nullable=True),
    sa.Column('raw', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('verdict', sa.String(length=24), nullable=False),
    sa.Column('issues', sa.JSON(), nullable=False),
    sa.Column('retour', sa.LargeBinary(), nullable=True),
    sa.Column('retour_identificatie', sa.String(length=64), nullable=True),
    sa.Column('client_key', sa.String(length=64), nullable=True),
    sa.Column('bsn_masked', sa.String(length=16), nullable=True),
    sa.Column('allocation_numbers', sa.JSON(), nullable=True),
    sa.Column('routing_state', sa.String(length=16), server_default='none', nullable=False),
    sa.Column('dead_letter', sa.Boolean(), server_default=sa.text('(false)'), nullable=False),
    sa.Column('replay_of', sa.String(length=26), nullable=True),
    sa.Column('transport', sa.String(length=16), nullable=True),
    sa.Column('received_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['replay_of'], ['messages.id'], name=op.f('fk_messages_replay_of_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages'))
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_client_received', ['client_key', 'received_at', 'id'], unique=False)
        batch_op.create_index('ix_messages_code_received', ['code', 'received_at', 'id'], unique=False)
        batch_op.create_index('ix_messages_ident', ['sender', 'code', 'identificatie'], unique=False)
        batch_op.create_index('ix_messages_received', ['received_at', 'id'], unique=False)
        batch_op.create_index('ix_messages_receiver_received', ['receiver', 'received_at', 'id'], unique=False)
        batch_op.create_index('ix_messages_replay_of', ['replay_of'], unique=False)
        batch_op.create_index('ix_messages_sender_received', ['sender', 'received_at', 'id'], unique=False)
        batch_op.create_index('ix_messages_verdict_received', ['verdict', 'received_at', 'id'], unique=False)

    op.create_table('parties',
    sa.Column('party_id', sa.String(length=16), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=255), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('party_id', name=op.f('pk_parties'))
    )
    op.create_table('stream_offsets',
    sa.Column('party', sa.String(length=16), nullable=False),
    sa.Column('acked', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('party', name=op.f('pk_stream_offsets'))
    )
    op.create_table('users',
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('username', name=op.f('pk_users'))
    )
    op.create_table('allocation_numbers',
    sa.Column('law', sa.String(length=8), nullable=False),
    sa.Column('gemeente', sa.String(length=4), nullable=False),
    sa.Column('toewijzingnummer', sa.String(length=32), nullable=False),
    sa.Column('aanbieder', sa.String(length=8), nullable=False),
    sa.Column('client_key', sa.String(length=64), nullable=False),
    sa.Column('message_id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_allocation_numbers_message_id_messages')),
    sa.PrimaryKeyConstraint('law', 'gemeente', 'toewijzingnummer', name=op.f('pk_allocation_numbers'))
    )
    op.create_table('allocations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('message_id', sa.String(length=26), nullable=False),
    sa.Column('law', sa.String(length=8), nullable=False),
    sa.Column('gemeente', sa.String(length=4), nullable=False),
    sa.Column('aanbieder', sa.String(length=8), nullable=False),
    sa.Column('client_key', sa.String(length=64), nullable=False),
    sa.Column('toewijzingnummer', sa.String(length=32), nullable=False),
    sa.Column('referentie_aanbieder', sa.String(length=64), nullable=True),
    sa.Column('categorie', sa.String(length=8), nullable=True),
    sa.Column('code', sa.String(length=8), nullable=True),
    sa.Column('ingangsdatum', sa.Date(), nullable=False),
    sa.Column('einddatum', sa.Date(), nullable=True),
    sa.Column('reden_wijziging', sa.String(length=4), nullable=True),
    sa.Column('volume', sa.BigInteger(), nullable=True),
    sa.Column('eenheid', sa.String(length=4), nullable=True),
    sa.Column('frequentie', sa.String(length=4), nullable=True),
    sa.Column('budget', sa.BigInteger(), nullable=True),
    sa.Column('toewijzingsdatum', sa.Date(), nullable=True),
    sa.Column('toewijzingstijd', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_allocations_message_id_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_allocations'))
    )
    with op.batch_alter_table('allocations', schema=None) as batch_op:
        batch_op.create_index('ix_allocations_client', ['law', 'gemeente', 'aanbieder', 'client_key'], unique=False)
        batch_op.create_index('ix_allocations_number', ['law', 'gemeente', 'toewijzingnummer'], unique=False)
        batch_op.create_index('ix_allocations_referentie', ['law', 'aanbieder', 'referentie_aanbieder'], unique=False)

    op.create_table('answers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('message_id', sa.String(length=26), nullable=False),
    sa.Column('law', sa.String(length=8), nullable=False),
    sa.Column('gemeente', sa.String(length=4), nullable=False),
    sa.Column('aanbieder', sa.String(length=8), nullable=False),
    sa.Column('referentie_aanbieder', sa.String(length=64), nullable=False),
    sa.Column('verzoek_antwoord', sa.String(length=4), nullable=False),
    sa.Column('reden_afwijzing', sa.String(length=4), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_answers_message_id_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answers'))
    )
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.create_index('ix_answers_ref', ['law', 'aanbieder', 'referentie_aanbieder'], unique=False)

    op.create_table('api_keys',
    sa.Column('key_id', sa.String(length=32), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('party_id', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['party_id'], ['parties.party_id'], name=op.f('fk_api_keys_party_id_parties')),
    sa.PrimaryKeyConstraint('key_id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_keys_key_hash'))
    )
    op.create_table('client_certs',
    sa.Column('fingerprint', sa.String(length=128), nullable=False),
    sa.Column('party_id', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['party_id'], ['parties.party_id'], name=op.f('fk_client_certs_party_id_parties')),
    sa.PrimaryKeyConstraint('fingerprint', name=op.f('pk_client_certs'))
    )
    op.create_table('declarations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('message_id', sa.String(length=26), nullable=False),
    sa.Column('law', sa.String(length=8), nullable=False),
    sa.Column('gemeente', sa.String(length=4), nullable=False),
    sa.Column('aanbieder', sa.String(length=8), nullable=False),
    sa.Column('declaratienummer', sa.String(length=64), nullable=False),
    sa.Column('identificatie', sa.String(length=64), nullable=False),
    sa.Column('periode_begin', sa.Date(), nullable=False),
    sa.Column('periode_eind', sa.Date(), nullable=False),
    sa.Column('xsd_versie', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_declarations_message_id_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_declarations')),
    sa.UniqueConstraint('law', 'aanbieder', 'declaratienummer', name=op.f('uq_declarations_law_aanbieder_declaratienummer'))
    )
    with op.batch_alter_table('declarations', schema=None) as batch_op:
        batch_op.create_index('ix_declarations_period', ['law', 'aanbieder', 'periode_begin'], unique=False)

    op.create_table('message_identifiers',
    sa.Column('sender', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('identificatie', sa.String(length=64), nullable=False),
    sa.Column('message_id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_message_identifiers_message_id_messages')),
    sa.PrimaryKeyConstraint('sender', 'code', 'identificatie', name=op.f('pk_message_identifiers'))
    )
    op.create_table('message_issues',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('message_id', sa.String(length=26), nullable=False),
    sa.Column('rule', sa.String(length=16), nullable=False),
    sa.Column('retourcode', sa.String(length=8), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_message_issues_message_id_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_issues')),
    sa.UniqueConstraint('message_id', 'rule', name=op.f('uq_message_issues_message_id_rule'))
    )
    with op.batch_alter_table('message_issues', schema=None) as batch_op:
        batch_op.create_index('ix_message_issues_rule_received', ['rule', 'received_at', 'message_id'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('message_id', sa.String(length=26), nullable=False),
    sa.Column('party', sa.String(length=16), nullable=True),
    sa.Column('destination', sa.String(length=255), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=True),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_outbox_message_id_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_message', ['message_id'], unique=False)
        batch_op.create_index('ix_outbox_party', ['party', 'destination', 'id'], unique=False)
        batch_op.create_index('ix_outbox_pending', ['published_at', 'id'], unique=False)

    op.create_table('requests',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('message_id', sa.String(length=26), nullable=False),
    sa.Column('law', sa.String(length=8), nullable=False),
    sa.Column('gemeente', sa.String(length=4), nullable=False),
    sa.Column('aanbieder', sa.String(length=8), nullable=False),
    sa.Column('client_key', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=4), nullable=False),
    sa.Column('referentie_aanbieder', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_requests_message_id_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_requests')),
    sa.UniqueConstraint('law', 'aanbieder', 'referentie_aanbieder', name=op.f('uq_requests_law_aanbieder_referentie_aanbieder'))
    )
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.create_index('ix_requests_client', ['law', 'gemeente', 'aanbieder', 'client_key', 'status'], unique=False)

    op.create_table('starts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('message_id', sa.String(length=26), nullable=False),
    sa.Column('law', sa.String(length=8), nullable=False),
    sa.Column('gemeente', sa.String(length=4), nullable=False),
    sa.Column('aanbieder', sa.String(length=8), nullable=False),
    sa.Column('client_key', sa.String(length=64), nullable=False),
    sa.Column('toewijzingnummer', sa.String(length=32), server_default='', nullable=False),
    sa.Column('categorie', sa.String(length=8), server_default='', nullable=False),
    sa.Column('code', sa.String(length=8), server_default='', nullable=False),
    sa.Column('begindatum', sa.Date(), nullable=False),
    sa.Column('toewijzing_ingangsdatum', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('actual', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_starts_message_id_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_starts'))
    )
    with op.batch_alter_table('starts', schema=None) as batch_op:
        batch_op.create_index('ix_starts_key', ['law', 'gemeente', 'aanbieder', 'client_key', 'toewijzingnummer'], unique=False)
        batch_op.create_index('uq_starts_active_key', ['law', 'gemeente', 'aanbieder', 'client_key', 'toewijzingnummer', 'categorie', 'code', 'begindatum'], unique=True, sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
        batch_op.create_index('uq_starts_actual', ['law', 'gemeente', 'aanbieder', 'client_key', 'toewijzingnummer', 'categorie', 'code'], unique=True, sqlite_where=sa.text("actual AND toewijzingnummer <> ''"), postgresql_where=sa.text("actual AND toewijzingnummer <> ''"))

    op.create_table('stops',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('message_id', sa.String(length=26), nullable=False),
    sa.Column('law', sa.String(length=8), nullable=False),
    sa.Column('gemeente', sa.String(length=4), nullable=False),
    sa.Column('aanbieder', sa.String(length=8), nullable=False),
    sa.Column('client_key', sa.String(length=64), nullable=False),
    sa.Column('toewijzingnummer', sa.String(length=32), server_default='', nullable=False),
    sa.Column('categorie', sa.String(length=8), server_default='', nullable=False),
    sa.Column('code', sa.String(length=8), server_default='', nullable=False),
    sa.Column('begindatum', sa.Date(), nullable=False),
    sa.Column('reden_beeindiging', sa.String(length=4), nullable=False),
    sa.Column('einddatum', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_stops_message_id_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stops'))
    )
    with op.batch_alter_table('stops', schema=None) as batch_op:
        batch_op.create_index('ix_stops_key', ['law', 'gemeente', 'aanbieder', 'client_key', 'toewijzingnummer'], unique=False)
        batch_op.create_index('uq_stops_active_key', ['law', 'gemeente', 'aanbieder', 'client_key', 'toewijzingnummer', 'categorie', 'code', 'begindatum', 'reden_beeindiging', 'einddatum'], unique=True, sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))

    op.create_table('prestaties',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('message_id', sa.String(length=26), nullable=False),
    sa.Column('declaration_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('law', sa.String(length=8), nullable=False),
    sa.Column('gemeente', sa.String(length=4), nullable=False),
    sa.Column('aanbieder', sa.String(length=8), nullable=False),
    sa.Column('client_key', sa.String(length=64), nullable=False),
    sa.Column('referentienummer', sa.String(length=64), nullable=False),
    sa.Column('vorig_referentienummer', sa.String(length=64), nullable=True),
    sa.Column('debet_credit', sa.String(length=1), nullable=False),
    sa.Column('toewijzingnummer', sa.String(length=32), nullable=True),
    sa.Column('categorie', sa.String(length=8), nullable=True),
    sa.Column('code', sa.String(length=8), nullable=True),
    sa.Column('periode_begin', sa.Date(), nullable=False),
    sa.Column('periode_eind', sa.Date(), nullable=False),
    sa.Column('volume', sa.BigInteger(), nullable=True),
    sa.Column('eenheid', sa.String(length=4), nullable=True),
    sa.Column('tarief', sa.BigInteger(), nullable=True),
    sa.Column('bedrag', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('credited', sa.Boolean(), server_default=sa.text('(false)'), nullable=False),
    sa.ForeignKeyConstraint(['declaration_id'], ['declarations.id'], name=op.f('fk_prestaties_declaration_id_declarations')),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_prestaties_message_id_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prestaties')),
    sa.UniqueConstraint('law', 'aanbieder', 'referentienummer', name=op.f('uq_prestaties_law_aanbieder_referentienummer'))
    )
    with op.batch_alter_table('prestaties', schema=None) as batch_op:
        batch_op.create_index('ix_prestaties_allocation', ['law', 'gemeente', 'toewijzingnummer'], unique=False)
        batch_op.create_index('ix_prestaties_budget', ['aanbieder', 'periode_begin'], unique=False)
        batch_op.create_index('ix_prestaties_vorig', ['law', 'aanbieder', 'vorig_referentienummer'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('prestaties', schema=None) as batch_op:
        batch_op.drop_index('ix_prestaties_vorig')
        batch_op.drop_index('ix_prestaties_budget')
        batch_op.drop_index('ix_prestaties_allocation')

    op.drop_table('prestaties')
    with op.batch_alter_table('stops', schema=None) as batch_op:
        batch_op.drop_index('uq_stops_active_key', sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
        batch_op.drop_index('ix_stops_key')

    op.drop_table('stops')
    with op.batch_alter_table('starts', schema=None) as batch_op:
        batch_op.drop_index('uq_starts_actual', sqlite_where=sa.text("actual AND toewijzingnummer <> ''"), postgresql_where=sa.text("actual AND toewijzingnummer <> ''"))
        batch_op.drop_index('uq_starts_active_key', sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
        batch_op.drop_index('ix_starts_key')

    op.drop_table('starts')
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.drop_index('ix_requests_client')

    op.drop_table('requests')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_pending')
        batch_op.drop_index('ix_outbox_party')
        batch_op.drop_index('ix_outbox_message')

    op.drop_table('outbox')
    with op.batch_alter_table('message_issues', schema=None) as batch_op:
        batch_op.drop_index('ix_message_issues_rule_received')

    op.drop_table('message_issues')
    op.drop_table('message_identifiers')
    with op.batch_alter_table('declarations', schema=None) as batch_op:
        batch_op.drop_index('ix_declarations_period')

    op.drop_table('declarations')
    op.drop_table('client_certs')
    op.drop_table('api_keys')
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_index('ix_answers_ref')

    op.drop_table('answers')
    with op.batch_alter_table('allocations', schema=None) as batch_op:
        batch_op.drop_index('ix_allocations_referentie')
        batch_op.drop_index('ix_allocations_number')
        batch_op.drop_index('ix_allocations_client')

    op.drop_table('allocations')
    op.drop_table('allocation_numbers')
    op.drop_table('users')
    op.drop_table('stream_offsets')
    op.drop_table('parties')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_verdict_received')
        batch_op.drop_index('ix_messages_sender_received')
        batch_op.drop_index('ix_messages_replay_of')
        batch_op.drop_index('ix_messages_receiver_received')
        batch_op.drop_index('ix_messages_received')
        batch_op.drop_index('ix_messages_ident')
        batch_op.drop_index('ix_messages_code_received')
        batch_op.drop_index('ix_messages_client_received')

    op.drop_table('messages')
    with op.batch_alter_table('contract_bundles', schema=None) as batch_op:
        batch_op.drop_index('ix_contract_bundles_region')

    op.drop_table('contract_bundles')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_at')

    op.drop_table('audit_log')
