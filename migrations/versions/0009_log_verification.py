"""transparency: a record of every verification of the log by the office (the auditor's "last verification")

Revision ID: 0009_log_verification
Revises: 0003_transparency
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from safeslot.db import UTCDateTime

revision = "0009_log_verification"
down_revision = "0003_transparency"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log_verification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=True),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_verification")),
    )
    op.create_index("ix_log_verification_at", "log_verification", ["at"])
    # Append-only like the log itself: a failed verification cannot be quietly removed.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER log_verification_append_only BEFORE UPDATE OR DELETE ON log_verification "
            "FOR EACH ROW EXECUTE FUNCTION log_append_only()"
        )
        op.execute(
            "CREATE TRIGGER log_verification_no_truncate BEFORE TRUNCATE ON log_verification "
            "FOR EACH STATEMENT EXECUTE FUNCTION log_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER log_verification_no_{verb.lower()} BEFORE {verb} ON log_verification "
                "BEGIN SELECT RAISE(ABORT, 'append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS log_verification_append_only ON log_verification")
        op.execute("DROP TRIGGER IF EXISTS log_verification_no_truncate ON log_verification")
    else:
        op.execute("DROP TRIGGER IF EXISTS log_verification_no_update")
        op.execute("DROP TRIGGER IF EXISTS log_verification_no_delete")
    op.drop_index("ix_log_verification_at", table_name="log_verification")
    op.drop_table("log_verification")
