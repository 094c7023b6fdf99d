"""identity: two-person privileged changes — proposals, role grants with cooling-off,
an append-only privileged-event table, invitations and claim links, an outbox, passkeys

Revision ID: 0120_identity_two_person
Revises: 0007_identity_oidc
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from safeslot.db import UTCDateTime

revision = "0120_identity_two_person"
down_revision = "0007_identity_oidc"
branch_labels = None
depends_on = None

PRIVILEGED = ("admin", "privacy_officer", "counsel", "auditor")


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    with op.batch_alter_table("staff_account") as batch:
        batch.add_column(sa.Column("email", sa.String(320), nullable=True))
        batch.add_column(sa.Column("enrolled_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("deactivated_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("agency_official") as batch:
        batch.add_column(sa.Column("email", sa.String(320), nullable=True))
    with op.batch_alter_table("credential") as batch:
        batch.add_column(sa.Column("amr", sa.String(32), nullable=True))
    # Accounts made before this revision enrolled their own factors at creation (CLI).
    op.execute("UPDATE staff_account SET enrolled_at = created_at")

    op.create_table(
        "identity_proposal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("role", sa.String(32), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("proposed_by", sa.Integer(), nullable=False),
        sa.Column("proposed_at", UTCDateTime(), nullable=False),
        sa.Column("beneficiary_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        _fk("identity_proposal", "proposed_by", "staff_account"),
        _fk("identity_proposal", "beneficiary_id", "staff_account"),
        _fk("identity_proposal", "decided_by", "staff_account"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_proposal")),
    )
    op.create_index(op.f("ix_identity_proposal_status"), "identity_proposal", ["status"])
    op.create_table(
        "identity_role_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("proposed_by", sa.Integer(), nullable=True),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        sa.Column("approved_at", UTCDateTime(), nullable=False),
        sa.Column("effective_at", UTCDateTime(), nullable=False),
        sa.Column("removed_at", UTCDateTime(), nullable=True),
        _fk("identity_role_grant", "account_id", "staff_account"),
        _fk("identity_role_grant", "proposal_id", "identity_proposal"),
        _fk("identity_role_grant", "proposed_by", "staff_account"),
        _fk("identity_role_grant", "approved_by", "staff_account"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_role_grant")),
    )
    op.create_index(op.f("ix_identity_role_grant_account_id"), "identity_role_grant", ["account_id"])
    op.create_table(
        "identity_privileged_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(48), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("account", sa.String(32), nullable=True),
        sa.Column("role", sa.String(32), nullable=True),
        sa.Column("proposer", sa.String(32), nullable=True),
        sa.Column("approver", sa.String(32), nullable=True),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("entry", sa.Text(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_privileged_event")),
    )
    op.create_index(op.f("ix_identity_privileged_event_at"), "identity_privileged_event", ["at"])
    op.create_table(
        "identity_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("official_id", sa.Integer(), nullable=True),
        sa.Column("credential_id", sa.Integer(), nullable=True),
        sa.Column("revoke_others", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        _fk("identity_invitation", "staff_id", "staff_account"),
        _fk("identity_invitation", "official_id", "agency_official"),
        _fk("identity_invitation", "credential_id", "credential"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_invitation")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_identity_invitation_token_hash")),
    )
    op.create_index(op.f("ix_identity_invitation_staff_id"), "identity_invitation", ["staff_id"])
    op.create_index(op.f("ix_identity_invitation_official_id"), "identity_invitation", ["official_id"])
    op.create_table(
        "identity_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address_enc", sa.LargeBinary(), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("body_enc", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_outbox")),
    )
    op.create_table(
        "identity_passkey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.String(512), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("identity_passkey", "staff_id", "staff_account"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_passkey")),
        sa.UniqueConstraint("credential_id", name=op.f("uq_identity_passkey_credential_id")),
    )
    op.create_index(op.f("ix_identity_passkey_staff_id"), "identity_passkey", ["staff_id"])

    # Roles held before this revision: kept, recorded as "legacy" grants with no approver,
    # so the whole-database invariant reports them instead of pretending a second person agreed.
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, roles, created_at FROM staff_account")).all()
    for account_id, roles, created_at in rows:
        for role in set((roles or "").split()) & set(PRIVILEGED):
            bind.execute(
                sa.text("INSERT INTO identity_role_grant (account_id, role, origin, approved_at, effective_at) "
                        "VALUES (:a, :r, 'legacy', :t, :t)"),
                {"a": account_id, "r": role, "t": created_at},
            )

    # The privileged-event table is append-only, like the log (invariant "the record cannot be rewritten from inside").
    if bind.dialect.name == "postgresql":
        op.execute(
            """
            CREATE OR REPLACE FUNCTION identity_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'append-only: % on % is refused', TG_OP, TG_TABLE_NAME
                    USING ERRCODE = 'restrict_violation';
            END
            $$
            """
        )
        op.execute("CREATE TRIGGER identity_privileged_event_append_only BEFORE UPDATE OR DELETE "
                   "ON identity_privileged_event FOR EACH ROW EXECUTE FUNCTION identity_append_only()")
        op.execute("CREATE TRIGGER identity_privileged_event_no_truncate BEFORE TRUNCATE "
                   "ON identity_privileged_event FOR EACH STATEMENT EXECUTE FUNCTION identity_append_only()")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER identity_privileged_event_no_{verb.lower()} BEFORE {verb} "
                       "ON identity_privileged_event BEGIN SELECT RAISE(ABORT, 'append-only'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS identity_privileged_event_append_only ON identity_privileged_event")
        op.execute("DROP TRIGGER IF EXISTS identity_privileged_event_no_truncate ON identity_privileged_event")
        op.execute("DROP FUNCTION IF EXISTS identity_append_only()")
    for table in ("identity_passkey", "identity_outbox", "identity_invitation", "identity_privileged_event",
                  "identity_role_grant", "identity_proposal"):
        op.drop_table(table)
    with op.batch_alter_table("credential") as batch:
        batch.drop_column("amr")
    with op.batch_alter_table("agency_official") as batch:
        batch.drop_column("email")
    with op.batch_alter_table("staff_account") as batch:
        batch.drop_column("deactivated_at")
        batch.drop_column("enrolled_at")
        batch.drop_column("email")
