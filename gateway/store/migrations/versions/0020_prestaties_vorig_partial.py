"""ix_prestaties_vorig holds only credits. Its queries (TR390's credits of a debit, the 323
prefetch) look prestaties up by VorigReferentieNummer = value, which both databases answer from
the partial index; a debit has none (NULL), yet each paid an index entry: for a declaration of
100,000 debits, 100,000 entries written that no query reads.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 14:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

_WHERE = "vorig_referentienummer IS NOT NULL"


def upgrade() -> None:
    op.drop_index('ix_prestaties_vorig', table_name='prestaties')
    op.create_index('ix_prestaties_vorig', 'prestaties', ['law', 'aanbieder', 'vorig_referentienummer'],
                    sqlite_where=sa.text(_WHERE), postgresql_where=sa.text(_WHERE))


def downgrade() -> None:
    op.drop_index('ix_prestaties_vorig', table_name='prestaties')
    op.create_index('ix_prestaties_vorig', 'prestaties', ['law', 'aanbieder', 'vorig_referentienummer'])
