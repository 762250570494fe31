"""StUF-GGk IB216: a new message's envelope may not take a referentienummer its zender used for a
further envelope (envelope_repeats). The unique index of message_envelopes cannot see those rows,
so the pipeline looked every new enveloped message's reference up in envelope_repeats first: a
query per message for a case that hardly ever happens. A trigger on the insert now refuses it as
a unique violation, the way the index refuses a reference of message_envelopes itself: the store
raises ConflictError, and the pipeline's retry looks the reference up in both tables (IB216, or
the same envelope again answered as a duplicate).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 18:30:00
"""

from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

_TRIGGER = 'tr_message_envelopes_repeat_reference'
_FUNCTION = 'message_envelopes_repeat_reference'
_USED = ("EXISTS (SELECT 1 FROM envelope_repeats r "
         "WHERE r.zender = NEW.zender AND r.referentienummer = NEW.referentienummer)")


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"""
            CREATE FUNCTION {_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF {_USED} THEN
                    RAISE EXCEPTION 'zender % used referentienummer % for a further envelope (envelope_repeats)',
                        NEW.zender, NEW.referentienummer USING ERRCODE = 'unique_violation';
                END IF;
                RETURN NEW;
            END $$""")
        op.execute(f"CREATE TRIGGER {_TRIGGER} BEFORE INSERT ON message_envelopes "
                   f"FOR EACH ROW EXECUTE FUNCTION {_FUNCTION}()")
    else:  # SQLite: RAISE(ABORT) is a constraint violation (IntegrityError), like the unique index's
        op.execute(f"CREATE TRIGGER {_TRIGGER} BEFORE INSERT ON message_envelopes FOR EACH ROW WHEN {_USED} "
                   "BEGIN SELECT RAISE(ABORT, 'referentienummer used for a further envelope (envelope_repeats)'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"DROP TRIGGER IF EXISTS {_TRIGGER} ON message_envelopes")
        op.execute(f"DROP FUNCTION IF EXISTS {_FUNCTION}()")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {_TRIGGER}")
