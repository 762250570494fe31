"""StUF-GGk: an enveloped message's envelope is kept without the base64 of the message (which is
messages.raw), and the Du01 it is answered with without that of its retour (messages.retour),
where the base64 stands as one run; these two columns say where it was cut out (NULL: kept whole,
as every row before this revision). Keeping the payload twice cost SQLite a page (WAL frame) more at
every commit of an enveloped message (gateway.store.elided).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 21:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('messages', sa.Column('envelope_payload_at', sa.Integer(), nullable=True))
    op.add_column('messages', sa.Column('envelope_answer_payload_at', sa.Integer(), nullable=True))


def downgrade() -> None:
    # Put the payloads back before the offsets go: the bytes are rebuilt in Python (SQL has no
    # base64 that writes exactly what pybase64 does).
    import pybase64

    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT id, raw, retour, envelope, envelope_payload_at, envelope_answer, envelope_answer_payload_at "
        "FROM messages WHERE envelope_payload_at IS NOT NULL OR envelope_answer_payload_at IS NOT NULL")).all()
    for mid, raw, retour, envelope, envelope_at, answer, answer_at in rows:
        if envelope_at is not None:
            envelope = envelope[:envelope_at] + pybase64.b64encode(raw) + envelope[envelope_at:]
        if answer_at is not None:
            answer = answer[:answer_at] + pybase64.b64encode(retour or b"") + answer[answer_at:]
        conn.execute(sa.text("UPDATE messages SET envelope = :e, envelope_answer = :a WHERE id = :id"),
                     dict(e=envelope, a=answer, id=mid))
    op.execute("ALTER TABLE messages DROP COLUMN envelope_answer_payload_at")
    op.execute("ALTER TABLE messages DROP COLUMN envelope_payload_at")
