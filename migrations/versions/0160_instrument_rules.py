"""disclosure: facts the typing cannot fake: consent form, the order's signer,
the document's signature, a wider signer type (executive_adjudicator)

Revision ID: 0160_instrument_rules
Revises: 0011_accounting_address
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0160_instrument_rules"
down_revision = "0011_accounting_address"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("disclosure_request") as batch:
        batch.alter_column("signer_type", type_=sa.String(length=24), existing_type=sa.String(length=16))
        batch.add_column(sa.Column("nda_signer_type", sa.String(length=24), nullable=True))
        batch.add_column(sa.Column("consent_requester_is_subject", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("consent_names_recipient", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("consent_names_purpose", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("document_signature", sa.String(length=16), nullable=False,
                                   server_default="none"))
    with op.batch_alter_table("disclosure_subject") as batch:
        # Why counsel chose one candidate booking (an enumerated reason, never free text).
        batch.add_column(sa.Column("match_reason", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("disclosure_subject") as batch:
        batch.drop_column("match_reason")
    with op.batch_alter_table("disclosure_request") as batch:
        for name in ("document_signature", "consent_names_purpose", "consent_names_recipient",
                     "consent_requester_is_subject", "nda_signer_type"):
            batch.drop_column(name)
        batch.alter_column("signer_type", type_=sa.String(length=16), existing_type=sa.String(length=24))
