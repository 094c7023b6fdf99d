"""disclosure: the request's typed free text sealed at rest

Revision ID: 0164_sealed_request_text
Revises: 0163_attestation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0164_sealed_request_text"
down_revision = "0163_attestation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("disclosure_request") as batch:
        batch.add_column(sa.Column("typed_enc", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("disclosure_request") as batch:
        batch.drop_column("typed_enc")
