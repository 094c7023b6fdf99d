"""disclosure: the recipient's address in the accounting (5 U.S.C. 552a(c)(1): name and address)

Revision ID: 0011_accounting_address
Revises: 0008_disclosure_notice
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_accounting_address"
down_revision = "0008_disclosure_notice"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("disclosure_accounting") as batch:
        batch.add_column(sa.Column("recipient_address", sa.String(length=400), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("disclosure_accounting") as batch:
        batch.drop_column("recipient_address")
