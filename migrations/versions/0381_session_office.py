"""identity: a console session remembers which office of its scope it works on

Revision ID: 0381_session_office
Revises: 0380_identity_office_scope
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0381_session_office"
down_revision = "0380_identity_office_scope"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("credential") as batch:
        batch.add_column(sa.Column("office_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("credential") as batch:
        batch.drop_column("office_id")
