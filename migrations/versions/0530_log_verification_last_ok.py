"""transparency: the last verified checkpoint found by a partial index, however many runs failed since

Every self-check starts from the newest successful run (``selfcheck._previous``: ``WHERE ok AND size >
0 ORDER BY id DESC LIMIT 1``), for its rollback and fork checks. Without an index on that condition
PostgreSQL walks the primary key backwards and filters: one row while the checks pass, but every run
since the last success when they fail — an hourly timer's whole history when the log never verified.
tests/test_query_plans.py::test_log_self_check finds it (a LIMIT no longer excuses a filtered full scan).

Revision ID: 0530_log_verification_last_ok
Revises: 0009_log_verification
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0530_log_verification_last_ok"
down_revision = "0009_log_verification"
branch_labels = None
depends_on = None

CONDITION = "ok AND size > 0"


def upgrade() -> None:
    op.create_index("ix_log_verification_last_ok", "log_verification", ["id"],
                    postgresql_where=sa.text(CONDITION), sqlite_where=sa.text(CONDITION))


def downgrade() -> None:
    op.drop_index("ix_log_verification_last_ok", table_name="log_verification")
