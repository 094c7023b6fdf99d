"""scheduling: an office closed by two administrators (identity's close_office proposal)

Revision ID: 0500_office_closed
Revises: 0360_scale_indexes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from safeslot.db import UTCDateTime

revision = "0500_office_closed"
down_revision = "0360_scale_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (as 0260): rebuilding ``office`` on SQLite trips the foreign keys that point at it.
    op.add_column("office", sa.Column("closed_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("office", "closed_at")
