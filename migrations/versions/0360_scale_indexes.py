"""scheduling: an office's people and hours found by index (a network has 1,200 offices)

Every slot search, booking plan and finder entry reads the office's active staff
(``repository.staff``: ``WHERE office_id = ? AND active ORDER BY id``) and the
booking grid's generator reads its weekly hours. With no index on ``office_id``
PostgreSQL reads the whole table each time: 7,200 staff rows in a network of
1,200 offices, for the six of one office. tests/test_query_plans.py finds it.

Revision ID: 0360_scale_indexes
Revises: 0260_office_location
"""

from __future__ import annotations

from alembic import op

revision = "0360_scale_indexes"
down_revision = "0260_office_location"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_staff_office", "staff", ["office_id", "id"])
    op.create_index("ix_weekly_hours_office", "weekly_hours", ["office_id", "weekday"])


def downgrade() -> None:
    op.drop_index("ix_weekly_hours_office", table_name="weekly_hours")
    op.drop_index("ix_staff_office", table_name="staff")
