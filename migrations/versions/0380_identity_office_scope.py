"""identity: staff accounts scoped to one or more offices (identity_office_scope)

Every account bound to an office before this revision keeps that office as its one scope,
recorded as a "legacy" scope with no proposer or approver (like the legacy role grants of
0120). From now on a scope is granted by two people (identity/scopes.py).

Revision ID: 0380_identity_office_scope
Revises: 0181_privileged_event_chain
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from safeslot.db import UTCDateTime

revision = "0380_identity_office_scope"
down_revision = "0181_privileged_event_chain"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_office_scope",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("staff_account.id"), nullable=False),
        sa.Column("office_id", sa.Integer(), sa.ForeignKey("office.id"), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("proposal_id", sa.Integer(), sa.ForeignKey("identity_proposal.id"), nullable=True),
        sa.Column("proposed_by", sa.Integer(), sa.ForeignKey("staff_account.id"), nullable=True),
        sa.Column("approved_by", sa.Integer(), sa.ForeignKey("staff_account.id"), nullable=True),
        sa.Column("granted_at", UTCDateTime(), nullable=False),
        sa.Column("removed_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_identity_office_scope_account", "identity_office_scope", ["account_id", "removed_at"])
    op.create_index("ix_identity_office_scope_office", "identity_office_scope", ["office_id", "removed_at"])
    op.execute(
        "INSERT INTO identity_office_scope (account_id, office_id, origin, granted_at) "
        "SELECT id, office_id, 'legacy', created_at FROM staff_account WHERE office_id IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index("ix_identity_office_scope_office", table_name="identity_office_scope")
    op.drop_index("ix_identity_office_scope_account", table_name="identity_office_scope")
    op.drop_table("identity_office_scope")
