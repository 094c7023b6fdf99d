"""identity: an agency official may be a demo official, whose keys work only in demo mode

Revision ID: 0200_identity_demo_official
Revises: 0007_identity_oidc
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0200_identity_demo_official"
down_revision = "0007_identity_oidc"
branch_labels = None
depends_on = None

# What `safeslot demo load` registered before this column existed (identity/demo.py).
DEMO_AGENCY = "Example County Office of the Sheriff"
DEMO_OFFICIAL = "Officer Example"


def upgrade() -> None:
    with op.batch_alter_table("agency_official") as batch:
        batch.add_column(sa.Column("demo", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(
        sa.text(
            "UPDATE agency_official SET demo = :yes WHERE name = :official "
            "AND agency_id IN (SELECT id FROM agency WHERE name = :agency)"
        ).bindparams(yes=True, official=DEMO_OFFICIAL, agency=DEMO_AGENCY)
    )


def downgrade() -> None:
    with op.batch_alter_table("agency_official") as batch:
        batch.drop_column("demo")
