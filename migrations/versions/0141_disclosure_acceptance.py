"""disclosure: who accepted a request for review, and when

Revision ID: 0141_disclosure_acceptance
Revises: 0162_instrument_document
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from safeslot.db import UTCDateTime

revision = "0141_disclosure_acceptance"
down_revision = "0162_instrument_document"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("disclosure_request") as batch:
        batch.add_column(sa.Column("accepted_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("accepted_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("disclosure_request") as batch:
        batch.drop_column("accepted_at")
        batch.drop_column("accepted_by")
