"""disclosure: requests, decisions, reviews, releases, accounting, holds, agreements, policy changes

Revision ID: 0004_disclosure
Revises: 0001_foundation
"""

# ruff: noqa: E501  (generated constraint names)
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from safeslot.db import UTCDateTime

revision = '0004_disclosure'
down_revision = '0001_foundation'
branch_labels = ('disclosure',)
# No foreign keys into identity or transparency tables, so no depends_on: with it, alembic
# (1.x) fails upgrading three sibling branches of 0001 at once (KeyError on the shared base).
depends_on = None


def upgrade() -> None:
    op.create_table('disclosure_legal_hold',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('authority', sa.String(length=300), nullable=False),
    sa.Column('agency', sa.String(length=200), nullable=True),
    sa.Column('purpose', sa.String(length=24), nullable=True),
    sa.Column('category', sa.String(length=32), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=True),
    sa.Column('lifted_at', UTCDateTime(), nullable=True),
    sa.Column('lifted_by', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_legal_hold'))
    )
    op.create_table('disclosure_policy_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('profile', sa.String(length=32), nullable=False),
    sa.Column('policy_set_hash', sa.String(length=64), nullable=False),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('proposed_by', sa.Integer(), nullable=False),
    sa.Column('proposed_at', UTCDateTime(), nullable=False),
    sa.Column('approvals', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_policy_change'))
    )
    op.create_table('disclosure_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('agency', sa.String(length=200), nullable=False),
    sa.Column('official_id', sa.Integer(), nullable=True),
    sa.Column('registered_by', sa.Integer(), nullable=True),
    sa.Column('instrument_type', sa.String(length=32), nullable=False),
    sa.Column('issuer', sa.String(length=200), nullable=False),
    sa.Column('court', sa.String(length=200), nullable=True),
    sa.Column('docket', sa.String(length=100), nullable=True),
    sa.Column('signer_name', sa.String(length=200), nullable=False),
    sa.Column('signer_type', sa.String(length=16), nullable=False),
    sa.Column('statutes', sa.JSON(), nullable=False),
    sa.Column('purpose', sa.String(length=24), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('nda_authority', sa.String(length=200), nullable=True),
    sa.Column('nda_expires_at', UTCDateTime(), nullable=True),
    sa.Column('emergency_justification', sa.Text(), nullable=True),
    sa.Column('deadline', UTCDateTime(), nullable=True),
    sa.Column('document', sa.LargeBinary(), nullable=False),
    sa.Column('document_sha256', sa.String(length=64), nullable=False),
    sa.Column('received_at', UTCDateTime(), nullable=False),
    sa.Column('policy_set_hash', sa.String(length=64), nullable=True),
    sa.Column('policy_profile', sa.String(length=32), nullable=True),
    sa.Column('decided_at', UTCDateTime(), nullable=True),
    sa.Column('decision_log_index', sa.Integer(), nullable=True),
    sa.Column('info_request', sa.Text(), nullable=True),
    sa.Column('closed_reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_request'))
    )
    op.create_table('disclosure_sharing_agreement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('reference', sa.String(length=300), nullable=False),
    sa.Column('purposes', sa.JSON(), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('starts_at', UTCDateTime(), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=False),
    sa.Column('renewed', sa.Boolean(), nullable=False),
    sa.Column('suspended', sa.Boolean(), nullable=False),
    sa.Column('suspended_reason', sa.Text(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_sharing_agreement'))
    )
    with op.batch_alter_table('disclosure_sharing_agreement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disclosure_sharing_agreement_agency'), ['agency'], unique=False)

    op.create_table('disclosure_accounting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('name_index', sa.String(length=64), nullable=False),
    sa.Column('disclosed_at', UTCDateTime(), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.String(length=24), nullable=False),
    sa.Column('nature', sa.String(length=32), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('withheld_b7', sa.Boolean(), nullable=False),
    sa.Column('deferred_until', UTCDateTime(), nullable=True),
    sa.Column('keep_until', UTCDateTime(), nullable=False),
    sa.Column('salt', sa.String(length=64), nullable=False),
    sa.Column('commitment', sa.String(length=64), nullable=False),
    sa.Column('log_index', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['disclosure_request.id'], name=op.f('fk_disclosure_accounting_request_id_disclosure_request')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_accounting'))
    )
    with op.batch_alter_table('disclosure_accounting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disclosure_accounting_name_index'), ['name_index'], unique=False)
        batch_op.create_index(batch_op.f('ix_disclosure_accounting_request_id'), ['request_id'], unique=False)

    op.create_table('disclosure_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('policy_ids', sa.JSON(), nullable=False),
    sa.Column('policy_set_hash', sa.String(length=64), nullable=False),
    sa.Column('dropped_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['disclosure_request.id'], name=op.f('fk_disclosure_decision_request_id_disclosure_request'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_decision'))
    )
    with op.batch_alter_table('disclosure_decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disclosure_decision_request_id'), ['request_id'], unique=False)

    op.create_table('disclosure_release',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('token_enc', sa.LargeBinary(), nullable=False),
    sa.Column('package_enc', sa.LargeBinary(), nullable=True),
    sa.Column('package_sha256', sa.String(length=64), nullable=False),
    sa.Column('manifest', sa.Text(), nullable=False),
    sa.Column('signature', sa.Text(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=False),
    sa.Column('downloaded_at', UTCDateTime(), nullable=True),
    sa.Column('log_index', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['disclosure_request.id'], name=op.f('fk_disclosure_release_request_id_disclosure_request')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_release')),
    sa.UniqueConstraint('request_id', name=op.f('uq_disclosure_release_request_id')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_disclosure_release_token_hash'))
    )
    op.create_table('disclosure_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=24), nullable=False),
    sa.Column('action', sa.String(length=24), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('void', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['disclosure_request.id'], name=op.f('fk_disclosure_review_request_id_disclosure_request'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_review'))
    )
    with op.batch_alter_table('disclosure_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disclosure_review_request_id'), ['request_id'], unique=False)

    op.create_table('disclosure_subject',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('name_enc', sa.LargeBinary(), nullable=False),
    sa.Column('name_index', sa.String(length=64), nullable=False),
    sa.Column('office_slug', sa.String(length=64), nullable=True),
    sa.Column('date_from', sa.Date(), nullable=True),
    sa.Column('date_to', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('candidates', sa.JSON(), nullable=False),
    sa.Column('appointment_ids', sa.JSON(), nullable=False),
    sa.Column('dropped_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['disclosure_request.id'], name=op.f('fk_disclosure_subject_request_id_disclosure_request'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_subject'))
    )
    with op.batch_alter_table('disclosure_subject', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disclosure_subject_request_id'), ['request_id'], unique=False)

    op.create_table('disclosure_accounting_code',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['disclosure_accounting.id'], name=op.f('fk_disclosure_accounting_code_entry_id_disclosure_accounting')),
    sa.PrimaryKeyConstraint('entry_id', 'code', name=op.f('pk_disclosure_accounting_code'))
    )
    with op.batch_alter_table('disclosure_accounting_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disclosure_accounting_code_code'), ['code'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('disclosure_accounting_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disclosure_accounting_code_code'))

    op.drop_table('disclosure_accounting_code')
    with op.batch_alter_table('disclosure_subject', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disclosure_subject_request_id'))

    op.drop_table('disclosure_subject')
    with op.batch_alter_table('disclosure_review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disclosure_review_request_id'))

    op.drop_table('disclosure_review')
    op.drop_table('disclosure_release')
    with op.batch_alter_table('disclosure_decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disclosure_decision_request_id'))

    op.drop_table('disclosure_decision')
    with op.batch_alter_table('disclosure_accounting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disclosure_accounting_request_id'))
        batch_op.drop_index(batch_op.f('ix_disclosure_accounting_name_index'))

    op.drop_table('disclosure_accounting')
    with op.batch_alter_table('disclosure_sharing_agreement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disclosure_sharing_agreement_agency'))

    op.drop_table('disclosure_sharing_agreement')
    op.drop_table('disclosure_request')
    op.drop_table('disclosure_policy_change')
    op.drop_table('disclosure_legal_hold')
