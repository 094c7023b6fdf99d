"""scheduling: staff working hours (a weekly pattern and dated absences); walk-ins hold their clerk

Revision ID: 0310_staff_hours
Revises: 0260_office_location, 0220_queue
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0310_staff_hours"
# Also after the queue's first revision: staff_hold.ticket_id points at queue_ticket (a merge, so that the
# heads the health check compares stay those of the version table).
down_revision = ("0260_office_location", "0220_queue")
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (rebuilding ``staff`` on SQLite would trip the foreign keys that point at it).
    # false: the staff member works whenever the office is open, as before this revision.
    op.add_column("staff", sa.Column("own_hours", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "staff_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("opens", sa.Time(), nullable=False),
        sa.Column("closes", sa.Time(), nullable=False),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_staff_hours_weekday")),
        sa.CheckConstraint("opens < closes", name=op.f("ck_staff_hours_order")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_staff_hours_staff_id_staff"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_hours")),
    )
    op.create_index("ix_staff_hours_staff", "staff_hours", ["staff_id", "weekday"])
    op.create_table(
        "staff_absence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.CheckConstraint("first_day <= last_day", name=op.f("ck_staff_absence_order")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_staff_absence_staff_id_staff"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_absence")),
    )
    op.create_index("ix_staff_absence_staff", "staff_absence", ["staff_id", "first_day"])
    # A walk-in being served holds its clerk: a hold belongs to an appointment or to a queue ticket.
    with op.batch_alter_table("staff_hold") as batch:
        batch.alter_column("appointment_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("ticket_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_staff_hold_ticket_id_queue_ticket"), "queue_ticket", ["ticket_id"],
                                 ["id"], ondelete="CASCADE")
        batch.create_index("ix_staff_hold_ticket_id", ["ticket_id"])
        batch.drop_constraint("role", type_="check")
        batch.create_check_constraint("role", "role IN ('serve', 'interpret', 'walk-in')")
        batch.create_check_constraint("owner", "(appointment_id IS NULL) <> (ticket_id IS NULL)")


def downgrade() -> None:
    op.execute("DELETE FROM staff_hold WHERE ticket_id IS NOT NULL")
    with op.batch_alter_table("staff_hold") as batch:
        batch.drop_constraint("owner", type_="check")
        batch.drop_constraint("role", type_="check")
        batch.create_check_constraint("role", "role IN ('serve', 'interpret')")
        batch.drop_index("ix_staff_hold_ticket_id")
        batch.drop_constraint("fk_staff_hold_ticket_id_queue_ticket", type_="foreignkey")
        batch.drop_column("ticket_id")
        batch.alter_column("appointment_id", existing_type=sa.Integer(), nullable=False)
    op.drop_index("ix_staff_absence_staff", "staff_absence")
    op.drop_table("staff_absence")
    op.drop_index("ix_staff_hours_staff", "staff_hours")
    op.drop_table("staff_hours")
    op.drop_column("staff", "own_hours")
