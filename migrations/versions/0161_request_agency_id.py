"""disclosure: the requesting agency's registry id (the log and the report carry
registry ids, never a typed agency name)

Revision ID: 0161_request_agency_id
Revises: 0160_instrument_rules
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0161_request_agency_id"
down_revision = "0160_instrument_rules"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("disclosure_request") as batch:
        batch.add_column(sa.Column("agency_id", sa.Integer(), nullable=True))
    # Requests filed before this revision keep NULL (logged as "unregistered" from now on):
    # the registry lives in identity's branch, which this branch may not follow.


def downgrade() -> None:
    with op.batch_alter_table("disclosure_request") as batch:
        batch.drop_column("agency_id")
