"""scheduling: the slot search reads who is held from the index alone

The search sums, per 15-minute unit, the bits of the people held then
(``repository.held_masks``: ``WHERE office_id = ? AND starts_at in a range``, reading
``staff_id``). With ``staff_id`` in the office-and-time index the rows' table pages are
not read: a week of a 30-person office is 3,000 index entries and no table look-ups
(SQLite "covering index"; a PostgreSQL index-only scan once the table is vacuumed).
Same columns first, so every query that used the old index uses this one.

Revision ID: 0480_hold_search_index
Revises: 0310_staff_hours
"""

from __future__ import annotations

from alembic import op

revision = "0480_hold_search_index"
down_revision = "0310_staff_hours"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_staff_hold_office_time", table_name="staff_hold")
    op.create_index("ix_staff_hold_office_time", "staff_hold", ["office_id", "starts_at", "staff_id"])


def downgrade() -> None:
    op.drop_index("ix_staff_hold_office_time", table_name="staff_hold")
    op.create_index("ix_staff_hold_office_time", "staff_hold", ["office_id", "starts_at"])
