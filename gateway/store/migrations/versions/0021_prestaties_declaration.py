"""ix_prestaties_declaration: a declaration's prestaties found by its id. A gemeente's 325 that
rejects a whole declaration, and the API's view of one declaration, asked for the prestaties of
one declaration_id, which no index held: each scanned every prestatie of the region (millions
after a few month-ends) while the 325's group held its locks.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 14:30:00
"""

from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_prestaties_declaration', 'prestaties', ['declaration_id'])


def downgrade() -> None:
    op.drop_index('ix_prestaties_declaration', table_name='prestaties')
