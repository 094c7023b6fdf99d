"""identity: staff accounts may be linked to an OpenID Connect subject

Revision ID: 0007_identity_oidc
Revises: 0002_identity
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_identity_oidc"
down_revision = "0002_identity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("staff_account", sa.Column("oidc_subject", sa.String(255), nullable=True))
    op.create_index(op.f("ix_staff_account_oidc_subject"), "staff_account", ["oidc_subject"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_staff_account_oidc_subject"), table_name="staff_account")
    with op.batch_alter_table("staff_account") as batch:
        batch.drop_column("oidc_subject")
