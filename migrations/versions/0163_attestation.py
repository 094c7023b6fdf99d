"""disclosure: reviewers attest the typed metadata against the document, field by field

Revision ID: 0163_attestation
Revises: 0162_instrument_document
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from safeslot.db import UTCDateTime

revision = "0163_attestation"
down_revision = "0162_instrument_document"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("disclosure_request") as batch:
        batch.add_column(sa.Column("attested_facts", sa.JSON(), nullable=False, server_default="{}"))
    op.create_table(
        "disclosure_attestation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=24), nullable=False),
        sa.Column("reviewer", sa.String(length=32), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("corrections", sa.JSON(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("void", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["disclosure_request.id"],
                                name=op.f("fk_disclosure_attestation_request_id_disclosure_request"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure_attestation")),
    )
    op.create_index(op.f("ix_disclosure_attestation_request_id"), "disclosure_attestation", ["request_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_disclosure_attestation_request_id"), table_name="disclosure_attestation")
    op.drop_table("disclosure_attestation")
    with op.batch_alter_table("disclosure_request") as batch:
        batch.drop_column("attested_facts")
