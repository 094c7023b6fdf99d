"""scheduling/queue: walk-in tickets, the daily ticket counter and the counts kept after retention

Revision ID: 0220_queue
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import safeslot.db

revision = '0220_queue'
down_revision = '0001_foundation'
branch_labels = ('queue',)
depends_on = None


def upgrade() -> None:
    op.create_table('queue_daily_count',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('wait_band', sa.String(length=8), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_queue_daily_count')),
    sa.UniqueConstraint('day', 'office_id', 'service_id', 'kind', 'language', 'outcome', 'wait_band', name=op.f('uq_queue_daily_count_day'))
    )
    op.create_table('queue_counter',
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], name=op.f('fk_queue_counter_office_id_office'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('office_id', 'day', name=op.f('pk_queue_counter'))
    )
    op.create_table('queue_ticket',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('name_enc', sa.LargeBinary(), nullable=True),
    sa.Column('due_at', safeslot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('checked_in_at', safeslot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('queued_at', safeslot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('called_at', safeslot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('first_called_at', safeslot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', safeslot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('desk', sa.String(length=32), nullable=True),
    sa.Column('recalls', sa.Integer(), nullable=False),
    sa.Column('transfers', sa.Integer(), nullable=False),
    sa.CheckConstraint("(kind = 'appointment') = (due_at IS NOT NULL)", name=op.f('ck_queue_ticket_due')),
    sa.CheckConstraint("kind IN ('walk-in', 'appointment')", name=op.f('ck_queue_ticket_kind')),
    sa.CheckConstraint("status <> 'called' OR (staff_id IS NOT NULL AND called_at IS NOT NULL)", name=op.f('ck_queue_ticket_caller')),
    sa.CheckConstraint("status IN ('waiting', 'called', 'done', 'noshow', 'left')", name=op.f('ck_queue_ticket_status')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_queue_ticket_appointment_id_appointment'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], name=op.f('fk_queue_ticket_office_id_office'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_queue_ticket_service_id_service'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_queue_ticket_staff_id_staff'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_queue_ticket')),
    sa.UniqueConstraint('appointment_id', name=op.f('uq_queue_ticket_appointment_id')),
    sa.UniqueConstraint('office_id', 'day', 'number', name=op.f('uq_queue_ticket_office_id')),
    sa.UniqueConstraint('token', name=op.f('uq_queue_ticket_token'))
    )
    with op.batch_alter_table('queue_ticket', schema=None) as batch_op:
        batch_op.create_index('ix_queue_ticket_office_day', ['office_id', 'day'], unique=False)
        batch_op.create_index('ix_queue_ticket_office_status', ['office_id', 'status', 'queued_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('queue_ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_queue_ticket_office_status')
        batch_op.drop_index('ix_queue_ticket_office_day')

    op.drop_table('queue_ticket')
    op.drop_table('queue_counter')
    op.drop_table('queue_daily_count')
