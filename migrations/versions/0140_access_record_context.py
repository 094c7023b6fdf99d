"""privacy: the role, office and reason of each staff read

Revision ID: 0140_access_record_context
Revises: 0200_identity_demo_official
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0140_access_record_context"
down_revision = "0200_identity_demo_official"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("access_record") as batch:
        batch.add_column(sa.Column("role", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("office_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("reason", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("access_record") as batch:
        batch.drop_column("reason")
        batch.drop_column("office_id")
        batch.drop_column("role")
