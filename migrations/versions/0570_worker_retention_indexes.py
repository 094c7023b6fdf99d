"""scheduling: the reminder scan, retention and stored retry answers found by index (both databases)

Every index of ``appointment`` began with the office, a person, the blind index or the code, so the queries
that ask by time alone read the whole table: on a network's tens of millions of visits,

* the worker's reminder scan, every few seconds (``reminders.upcoming``: opted-in visits with a contact
  starting in the next days). ``ix_appointment_reminders`` holds only those visits, by start; its predicate
  is the query's own (``reminders_opt_in IS true``: PostgreSQL does not read ``IS true`` as implying the bare
  column) and leaves the status out, so that a check-in, a cancellation or a visit's end stays a heap-only
  update (the few cancelled visits with reminders on are filtered on the way);
* retention, nightly: the visits ended before the period (``ix_appointment_end``, in batches by end; on
  PostgreSQL a BRIN index, below), the
  contacts of visits ended a month ago (``ix_appointment_contact_end``: the visits that still have one, so
  the night reads the day's few hundred, not the eleven months before them), the stored retry answers by age
  (``ix_idempotency_record_created``), and the walk-in tickets by day (``ix_queue_ticket_day``, and
  ``ix_queue_ticket_name_day`` for the names still kept).

``ix_appointment_end`` is a BRIN index on PostgreSQL (block ranges and the least and greatest end in each), not
a B-tree: every booking inserts into it, and many visits end at the same few times (every 09:00 visit of a
network ends at 09:15), so a B-tree took all those inserts on one leaf page: bench/booking.py's pgbench
baseline (the app's own booking statements) fell from about 2,300 to 1,000 bookings a second with it, and
the app's bookings with it (docs/decisions.md, "The retention index by end: BRIN on PostgreSQL"). Visits
past the retention period are the table's oldest rows, in its first pages, which is what a BRIN index
finds well. SQLite has one writer at a time and keeps the B-tree. The two partial indexes are B-trees:
only visits with a contact enter them, and they must find the few rows they hold, not page ranges.

tests/test_query_plans.py finds each of them otherwise. The indexes are created IF NOT EXISTS
(tests/test_migrations.py): a release builds them CONCURRENTLY beforehand (docs/operations.md, Upgrades),
as the schema owner, on PostgreSQL::

    CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_appointment_reminders ON appointment (starts_at)
        WHERE reminders_opt_in IS true AND contact_enc IS NOT NULL;
    CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_appointment_end ON appointment USING brin (ends_at);
    CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_appointment_contact_end ON appointment (ends_at)
        WHERE contact_enc IS NOT NULL;
    CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_idempotency_record_created ON idempotency_record (created_at);
    CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_queue_ticket_day ON queue_ticket (day);
    CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_queue_ticket_name_day ON queue_ticket (day)
        WHERE name_enc IS NOT NULL;

Revision ID: 0570_worker_retention_indexes
Revises: 0550_visit_check_by_person
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0570_worker_retention_indexes"
down_revision = "0550_visit_check_by_person"
branch_labels = None
depends_on = None

# the reminder scan's conditions as each dialect writes them (scheduling/reminders.py, ``_query``)
REMINDERS = {"postgresql_where": sa.text("reminders_opt_in IS true AND contact_enc IS NOT NULL"),
             "sqlite_where": sa.text("reminders_opt_in IS 1 AND contact_enc IS NOT NULL")}
WITH_CONTACT = {"postgresql_where": sa.text("contact_enc IS NOT NULL"),
                "sqlite_where": sa.text("contact_enc IS NOT NULL")}
WITH_NAME = {"postgresql_where": sa.text("name_enc IS NOT NULL"), "sqlite_where": sa.text("name_enc IS NOT NULL")}


def upgrade() -> None:
    op.create_index("ix_appointment_reminders", "appointment", ["starts_at"], if_not_exists=True, **REMINDERS)
    op.create_index("ix_appointment_end", "appointment", ["ends_at"], if_not_exists=True, postgresql_using="brin")
    op.create_index("ix_appointment_contact_end", "appointment", ["ends_at"], if_not_exists=True, **WITH_CONTACT)
    op.create_index("ix_idempotency_record_created", "idempotency_record", ["created_at"], if_not_exists=True)
    op.create_index("ix_queue_ticket_day", "queue_ticket", ["day"], if_not_exists=True)
    op.create_index("ix_queue_ticket_name_day", "queue_ticket", ["day"], if_not_exists=True, **WITH_NAME)


def downgrade() -> None:
    op.drop_index("ix_queue_ticket_name_day", "queue_ticket")
    op.drop_index("ix_queue_ticket_day", "queue_ticket")
    op.drop_index("ix_idempotency_record_created", "idempotency_record")
    op.drop_index("ix_appointment_contact_end", "appointment")
    op.drop_index("ix_appointment_end", "appointment")
    op.drop_index("ix_appointment_reminders", "appointment")
