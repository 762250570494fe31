"""StUF-GGk IB216: no trigger on messages. Revision 0014 moved the trigger that refuses a new
message's envelope under a referentienummer a further envelope (envelope_repeats) took onto
messages, and on SQLite a trigger runs its program for every row inserted, a bare message's too:
about 40 us per message (loading 100,000 rows: 8 s without it, 15.5 s with it). The pipeline
looks the reference up in envelope_repeats for each new enveloped message instead
(Transaction.repeat_took: one indexed lookup, enveloped messages only); messages serialise on
the envelope's (zender, referentienummer) lock key, so the lookup sees every repeat stored before.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 21:50:00
"""

from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

_TRIGGER = 'tr_messages_envelope_repeat_reference'
_FUNCTION = 'messages_envelope_repeat_reference'
_USED = ("EXISTS (SELECT 1 FROM envelope_repeats r WHERE r.zender = NEW.envelope_zender "
         "AND r.referentienummer = NEW.envelope_referentienummer)")


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"DROP TRIGGER IF EXISTS {_TRIGGER} ON messages")
        op.execute(f"DROP FUNCTION IF EXISTS {_FUNCTION}()")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {_TRIGGER}")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"""
            CREATE FUNCTION {_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF {_USED} THEN
                    RAISE EXCEPTION 'zender % used referentienummer % for a further envelope (envelope_repeats)',
                        NEW.envelope_zender, NEW.envelope_referentienummer USING ERRCODE = 'unique_violation';
                END IF;
                RETURN NEW;
            END $$""")
        op.execute(f"CREATE TRIGGER {_TRIGGER} BEFORE INSERT ON messages FOR EACH ROW "
                   f"WHEN (NEW.envelope_referentienummer IS NOT NULL) EXECUTE FUNCTION {_FUNCTION}()")
    else:
        op.execute(f"CREATE TRIGGER {_TRIGGER} BEFORE INSERT ON messages FOR EACH ROW "
                   f"WHEN NEW.envelope_referentienummer IS NOT NULL AND {_USED} "
                   "BEGIN SELECT RAISE(ABORT, 'referentienummer used for a further envelope (envelope_repeats)'); END")
