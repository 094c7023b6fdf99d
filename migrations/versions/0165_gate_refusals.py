"""disclosure: intake requests refused before the gate, counted per hour and reason

Revision ID: 0165_gate_refusals
Revises: 0164_sealed_request_text
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0165_gate_refusals"
down_revision = "0164_sealed_request_text"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "disclosure_gate_refusal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=13), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("logged", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure_gate_refusal")),
        sa.UniqueConstraint("period", "reason", name=op.f("uq_disclosure_gate_refusal_period")),
    )


def downgrade() -> None:
    op.drop_table("disclosure_gate_refusal")
