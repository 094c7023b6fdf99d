"""transparency: the records people rely on become append-only hash chains committed in the log

The staff access log, its alerts and the accounting of disclosures get
``chain_seq``/``chain_prev``/``chain_hash`` (back-filled in id order) and
append-only triggers; ``record_chain_commit`` keeps which head each
``records.heads`` log entry committed. See safeslot/chain.py.

Revision ID: 0180_record_chains
Revises: 0009_log_verification, 0007_identity_oidc, 0011_accounting_address

A merge point (it needs the access log from the identity branch and the accounting
from the disclosure branch); ``depends_on`` would hide those heads from the version
table, which /healthz compares with the script's heads. Later revisions may branch
from any of the three as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from safeslot import chain
from safeslot.db import UTCDateTime

revision = "0180_record_chains"
down_revision = ("0009_log_verification", "0007_identity_oidc", "0011_accounting_address")
branch_labels = None
depends_on = None

CHAINED = ("access_record", "access_alert", "disclosure_accounting")


def upgrade() -> None:
    op.create_table(
        "record_chain_commit",
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("chain_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("table_name", "chain_hash", name=op.f("pk_record_chain_commit")),
    )
    chain.install_append_only(op, "record_chain_commit")
    for table in CHAINED:
        chain.migration_install(op, table)


def downgrade() -> None:
    for table in reversed(CHAINED):
        chain.migration_uninstall(op, table)
    chain.remove_append_only(op, "record_chain_commit")
    op.drop_table("record_chain_commit")
