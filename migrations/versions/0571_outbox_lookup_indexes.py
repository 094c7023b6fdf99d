"""notifications: the worker's de-duplication and pruning found by index (both databases)

Each worker round (every few seconds) reads which reminders are queued already for the visits it found due
(``WHERE kind = ? AND ref IN (…)``) and deletes the finished messages past the appointment period
(``WHERE status IN (sent, cancelled, dead) AND created_at < ?``). The outbox's one index was
``(status, next_attempt_at)``, the claim's: the first read the whole table, the second every finished message
of the year to delete a day's. ``ix_notification_outbox_ref`` and ``ix_notification_outbox_created`` answer
them (tests/test_query_plans.py). Created IF NOT EXISTS, as every index on a table that grows with visits
(docs/operations.md, Upgrades); built ahead on PostgreSQL with::

    CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_notification_outbox_ref ON notification_outbox (kind, ref);
    CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_notification_outbox_created ON notification_outbox (created_at);

Revision ID: 0571_outbox_lookup_indexes
Revises: 0240_notifications
"""

from __future__ import annotations

from alembic import op

revision = "0571_outbox_lookup_indexes"
down_revision = "0240_notifications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_notification_outbox_ref", "notification_outbox", ["kind", "ref"], if_not_exists=True)
    op.create_index("ix_notification_outbox_created", "notification_outbox", ["created_at"], if_not_exists=True)


def downgrade() -> None:
    op.drop_index("ix_notification_outbox_created", "notification_outbox")
    op.drop_index("ix_notification_outbox_ref", "notification_outbox")
