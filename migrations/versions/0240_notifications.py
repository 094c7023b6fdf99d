"""notifications: the outbox, reminder languages and contacts that said STOP

Revision ID: 0240_notifications
Revises: 0001_foundation
"""

# ruff: noqa: E501  (generated constraint names)
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from safeslot.db import UTCDateTime

revision = '0240_notifications'
down_revision = '0001_foundation'
branch_labels = ('notifications',)
depends_on = None


def upgrade() -> None:
    op.create_table('notification_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('ref', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=128), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=True),
    sa.Column('about_at', UTCDateTime(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', UTCDateTime(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('claimed_at', UTCDateTime(), nullable=True),
    sa.Column('sent_at', UTCDateTime(), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_outbox')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_notification_outbox_dedupe_key'))
    )
    op.create_index('ix_notification_outbox_due', 'notification_outbox', ['status', 'next_attempt_at'], unique=False)
    op.create_table('notification_reminder_language',
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_notification_reminder_language_appointment_id_appointment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('appointment_id', name=op.f('pk_notification_reminder_language'))
    )
    op.create_table('notification_contact_stop',
    sa.Column('contact_hash', sa.String(length=64), nullable=False),
    sa.Column('stopped_at', UTCDateTime(), nullable=False),
    sa.Column('via', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('contact_hash', name=op.f('pk_notification_contact_stop'))
    )


def downgrade() -> None:
    op.drop_table('notification_contact_stop')
    op.drop_table('notification_reminder_language')
    op.drop_index('ix_notification_outbox_due', table_name='notification_outbox')
    op.drop_table('notification_outbox')
