"""identity: privileged identity events join the record chains (item 2)

``identity_privileged_event`` becomes a hash chain like the access log
and the accounting (safeslot/chain.py): back-filled in id order, its head committed
in the log at each checkpoint; its append-only triggers now run ``log_append_only()``.

Revision ID: 0181_privileged_event_chain
Revises: 0180_record_chains, 0120_identity_two_person
"""

from __future__ import annotations

from alembic import op

from safeslot import chain

revision = "0181_privileged_event_chain"
down_revision = ("0180_record_chains", "0120_identity_two_person")
branch_labels = None
depends_on = None


def upgrade() -> None:
    chain.migration_install(op, "identity_privileged_event")


def downgrade() -> None:
    chain.migration_uninstall(op, "identity_privileged_event")
    chain.install_append_only(op, "identity_privileged_event")  # append-only as before, without the chain
