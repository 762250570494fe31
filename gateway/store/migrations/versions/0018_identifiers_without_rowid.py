"""SQLite: message_identifiers as a WITHOUT ROWID table. Every message registers its identifier
there, and a rowid table with a composite primary key is two B-trees (the rows by rowid, and the
key's index): each insert wrote both, and each group commit their pages to the WAL. Without a
rowid the rows live in the key's B-tree itself: one insert, one page fewer per commit, the same
lookups (by the whole key, TR056 and the group's prefetch). PostgreSQL is unchanged.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 08:05:00
"""

from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

_COLUMNS = "sender, code, identificatie, message_id"


def _rebuild(without_rowid: bool) -> None:
    """The table again with the same columns, constraints and rows, with or without a rowid."""
    op.execute(
        "CREATE TABLE message_identifiers_new (\n"
        "\tsender VARCHAR(16) NOT NULL, \n"
        "\tcode VARCHAR(8) NOT NULL, \n"
        "\tidentificatie VARCHAR(64) NOT NULL, \n"
        "\tmessage_id VARCHAR(26) NOT NULL, \n"
        "\tCONSTRAINT pk_message_identifiers PRIMARY KEY (sender, code, identificatie), \n"
        "\tCONSTRAINT fk_message_identifiers_message_id_messages FOREIGN KEY(message_id) REFERENCES messages (id)\n"
        ")" + (" WITHOUT ROWID" if without_rowid else "")
    )
    op.execute(f"INSERT INTO message_identifiers_new ({_COLUMNS}) SELECT {_COLUMNS} FROM message_identifiers")
    op.execute("DROP TABLE message_identifiers")
    op.execute("ALTER TABLE message_identifiers_new RENAME TO message_identifiers")


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        _rebuild(without_rowid=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        _rebuild(without_rowid=False)
