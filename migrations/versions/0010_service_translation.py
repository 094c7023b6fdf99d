"""scheduling: a service's name and description in other languages (Spanish pages all in Spanish)

Revision ID: 0010_service_translation
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_service_translation"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_translation",
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["service_id"], ["service.id"], name=op.f("fk_service_translation_service_id_service"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("service_id", "language", name=op.f("pk_service_translation")),
    )


def downgrade() -> None:
    op.drop_table("service_translation")
