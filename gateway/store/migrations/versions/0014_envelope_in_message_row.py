"""StUF-GGk: the envelope a message came in, and the answer to it, kept in the message's own row
instead of a row of message_envelopes. That row cost every enveloped message an insert of its own
and, on SQLite, the pages of a third table and its two indexes at the commit: about half of what
an envelope added to the bare message (issue 17 asks at most 10 %). The columns are NULL for a
message that came bare; (envelope_zender, envelope_referentienummer) stays unique (IB216) in a
partial index, and the trigger of revision 0012 moves to messages. Readers select from
`tables.message_envelopes`, now the messages that have an envelope under the old names.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 20:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

# the fields of an envelope row: (name in message_envelopes, its type)
_FIELDS = [
    ('berichtcode', sa.String(length=4)),
    ('zender', sa.String(length=64)),
    ('zender_applicatie', sa.String(length=64)),
    ('ontvanger', sa.String(length=64)),
    ('referentienummer', sa.String(length=40)),
    ('cross_refnummer', sa.String(length=40)),
    ('functie', sa.String(length=8)),
    ('functie_versie', sa.String(length=4)),
    ('functie_subversie', sa.String(length=4)),
    ('applicatie_versie', sa.String(length=4)),
    ('applicatie_subversie', sa.String(length=4)),
    ('tijdstip_bericht', sa.String(length=17)),
    ('envelope', sa.LargeBinary()),
    ('envelope_sha256', sa.String(length=64)),
    ('answer', sa.LargeBinary()),
    ('answer_code', sa.String(length=4)),
    ('answer_referentienummer', sa.String(length=40)),
]
_NOT_NULL = ('berichtcode', 'zender', 'referentienummer', 'envelope', 'envelope_sha256')


def _stored(name: str) -> str:
    return name if name.startswith('envelope') else f'envelope_{name}'


_HAS = 'envelope_referentienummer IS NOT NULL'
_CROSS = 'envelope_cross_refnummer IS NOT NULL'
_OLD_TRIGGER = 'tr_message_envelopes_repeat_reference'
_OLD_FUNCTION = 'message_envelopes_repeat_reference'
_TRIGGER = 'tr_messages_envelope_repeat_reference'
_FUNCTION = 'messages_envelope_repeat_reference'


def _used(new: str, zender: str, referentienummer: str) -> str:
    return (f"EXISTS (SELECT 1 FROM envelope_repeats r "
            f"WHERE r.zender = {new}.{zender} AND r.referentienummer = {new}.{referentienummer})")


def _create_trigger(table: str, zender: str, referentienummer: str, trigger: str, function: str) -> None:
    """IB216 across tables: a message's envelope may not take a referentienummer its zender used for
    a further envelope (envelope_repeats); refused as a unique violation (revision 0012)."""
    used = _used('NEW', zender, referentienummer)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"""
            CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF {used} THEN
                    RAISE EXCEPTION 'zender % used referentienummer % for a further envelope (envelope_repeats)',
                        NEW.{zender}, NEW.{referentienummer} USING ERRCODE = 'unique_violation';
                END IF;
                RETURN NEW;
            END $$""")
        op.execute(f"CREATE TRIGGER {trigger} BEFORE INSERT ON {table} FOR EACH ROW "
                   f"WHEN (NEW.{referentienummer} IS NOT NULL) EXECUTE FUNCTION {function}()")
    else:
        op.execute(f"CREATE TRIGGER {trigger} BEFORE INSERT ON {table} FOR EACH ROW "
                   f"WHEN NEW.{referentienummer} IS NOT NULL AND {used} "
                   "BEGIN SELECT RAISE(ABORT, 'referentienummer used for a further envelope (envelope_repeats)'); END")


def _drop_trigger(table: str, trigger: str, function: str) -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")


def upgrade() -> None:
    for name, type_ in _FIELDS:
        op.add_column('messages', sa.Column(_stored(name), type_, nullable=True))
    op.execute(
        "UPDATE messages SET "
        + ", ".join(f"{_stored(name)} = e.{name}" for name, _ in _FIELDS)
        + " FROM message_envelopes e WHERE e.message_id = messages.id")
    _drop_trigger('message_envelopes', _OLD_TRIGGER, _OLD_FUNCTION)
    op.drop_table('message_envelopes')
    op.create_index('uq_messages_envelope_reference', 'messages', ['envelope_zender', 'envelope_referentienummer'],
                    unique=True, sqlite_where=sa.text(_HAS), postgresql_where=sa.text(_HAS))
    op.create_index('ix_messages_envelope_cross_ref', 'messages', ['envelope_cross_refnummer'],
                    sqlite_where=sa.text(_CROSS), postgresql_where=sa.text(_CROSS))
    _create_trigger('messages', 'envelope_zender', 'envelope_referentienummer', _TRIGGER, _FUNCTION)


def downgrade() -> None:
    op.create_table(
        'message_envelopes',
        sa.Column('message_id', sa.String(length=26), nullable=False),
        *(sa.Column(name, type_, nullable=name not in _NOT_NULL) for name, type_ in _FIELDS),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id']),
        sa.PrimaryKeyConstraint('message_id'),
        sa.UniqueConstraint('zender', 'referentienummer', name='uq_message_envelopes_reference'),
    )
    op.create_index('ix_message_envelopes_cross_ref', 'message_envelopes', ['cross_refnummer'],
                    sqlite_where=sa.text('cross_refnummer IS NOT NULL'),
                    postgresql_where=sa.text('cross_refnummer IS NOT NULL'))
    op.execute(
        "INSERT INTO message_envelopes (message_id, " + ", ".join(name for name, _ in _FIELDS) + ") "
        "SELECT id, " + ", ".join(_stored(name) for name, _ in _FIELDS) + f" FROM messages WHERE {_HAS}")
    _drop_trigger('messages', _TRIGGER, _FUNCTION)
    op.drop_index('ix_messages_envelope_cross_ref', table_name='messages')
    op.drop_index('uq_messages_envelope_reference', table_name='messages')
    for name, _ in reversed(_FIELDS):  # SQLite drops a column in place (3.35+): no copy of messages
        op.execute(f"ALTER TABLE messages DROP COLUMN {_stored(name)}")
    _create_trigger('message_envelopes', 'zender', 'referentienummer', _OLD_TRIGGER, _OLD_FUNCTION)
