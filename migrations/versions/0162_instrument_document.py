"""disclosure: the instrument's page count and its digital signature's signer and time

Revision ID: 0162_instrument_document
Revises: 0161_request_agency_id
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0162_instrument_document"
down_revision = "0161_request_agency_id"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("disclosure_request") as batch:
        batch.add_column(sa.Column("document_pages", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("signature_signed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("signature_signer_enc", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("disclosure_request") as batch:
        for name in ("signature_signer_enc", "signature_signed_at", "document_pages"):
            batch.drop_column(name)
