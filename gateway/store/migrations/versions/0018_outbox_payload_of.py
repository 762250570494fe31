"""An outbox row whose payload is its message's raw or retour names that column (payload_of)
instead of carrying a copy (payload b""): the message to its receiver and the retour to its
sender copied some 2 KB per message into the outbox, on SQLite about a page of that table each.
Rows written before keep their payload (payload_of NULL) and read as they did. Since, a row may
also name "answer": the Du01 its message's row keeps cut (no schema change; the downgrade puts it
together too).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 10:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('outbox', sa.Column('payload_of', sa.String(length=8), nullable=True))


def downgrade() -> None:
    # the bytes back into the rows first (as the message keeps them: in its row, or apart)
    for column in ('raw', 'retour'):
        op.execute(f"UPDATE outbox SET payload = (SELECT m.{column} FROM messages m WHERE m.id = outbox.message_id), "
                   f"payload_ref = (SELECT m.{column}_ref FROM messages m WHERE m.id = outbox.message_id) "
                   f"WHERE payload_of = '{column}'")
    # a Du01 named (payload_of "answer"): put together in Python, as revision 0015's downgrade does
    import pybase64

    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT o.id, m.envelope_answer, m.envelope_answer_payload_at, "
        "COALESCE((SELECT v.data FROM large_values v WHERE v.id = m.retour_ref), m.retour) "
        "FROM outbox o JOIN messages m ON m.id = o.message_id WHERE o.payload_of = 'answer'")).all()
    for outbox_id, cut, at, retour in rows:
        whole = cut if at is None else cut[:at] + pybase64.b64encode(retour or b"") + cut[at:]
        conn.execute(sa.text("UPDATE outbox SET payload = :p WHERE id = :id"), dict(p=bytes(whole), id=outbox_id))
    op.drop_column('outbox', 'payload_of')
