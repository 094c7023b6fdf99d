"""reports: published transparency reports (period, checkpoint, hash, log index)

Revision ID: 0005_reports
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from safeslot.db import UTCDateTime

revision = "0005_reports"
down_revision = "0001_foundation"
branch_labels = ("reports",)
depends_on = None  # no foreign keys: the report reads the log through its service


def upgrade() -> None:
    op.create_table(
        "published_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("checkpoint_size", sa.BigInteger(), nullable=False),
        sa.Column("checkpoint_root", sa.String(length=64), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_published_report")),
    )
    op.create_index(op.f("ix_published_report_period"), "published_report", ["period"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_published_report_period"), table_name="published_report")
    op.drop_table("published_report")
