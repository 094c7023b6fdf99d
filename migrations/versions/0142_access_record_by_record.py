"""privacy: an index to find the reads of one record (the person's view on /records)

Without it, a public look-up by code would scan the whole access log.

Revision ID: 0142_access_record_by_record
Revises: 0140_access_record_context
"""

from __future__ import annotations

from alembic import op

revision = "0142_access_record_by_record"
down_revision = "0140_access_record_context"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_access_record_record", "access_record", ["record_type", "record_id"])


def downgrade() -> None:
    op.drop_index("ix_access_record_record", table_name="access_record")
