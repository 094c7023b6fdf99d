"""disclosure: outbox of notices to the person

Revision ID: 0008_disclosure_notice
Revises: 0004_disclosure
"""

# ruff: noqa: E501  (generated constraint names)
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from safeslot.db import UTCDateTime

revision = '0008_disclosure_notice'
down_revision = '0004_disclosure'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('disclosure_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('sent_at', UTCDateTime(), nullable=True),
    sa.Column('failure', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['disclosure_accounting.id'], name=op.f('fk_disclosure_notice_entry_id_disclosure_accounting')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_notice')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_disclosure_notice_entry_id'))
    )


def downgrade() -> None:
    op.drop_table('disclosure_notice')
