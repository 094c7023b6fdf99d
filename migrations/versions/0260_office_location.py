"""scheduling: an office's latitude and longitude, for the public office finder

Revision ID: 0260_office_location
Revises: 0100_staff_holds
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0260_office_location"
down_revision = "0100_staff_holds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, not a batch copy: rebuilding ``office`` on SQLite trips the foreign keys that point
    # at it. SQLite cannot add a CHECK to an existing table, so there the range rule is the service's
    # (finder.set_location) and the API schema's; PostgreSQL enforces it in the database too.
    op.add_column("office", sa.Column("latitude", sa.Float(), nullable=True))
    op.add_column("office", sa.Column("longitude", sa.Float(), nullable=True))
    if op.get_bind().dialect.name != "sqlite":
        op.create_check_constraint("latitude", "office", "latitude IS NULL OR (latitude BETWEEN -90 AND 90)")
        op.create_check_constraint("longitude", "office", "longitude IS NULL OR (longitude BETWEEN -180 AND 180)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("ck_office_latitude", "office", type_="check")
        op.drop_constraint("ck_office_longitude", "office", type_="check")
    op.drop_column("office", "longitude")
    op.drop_column("office", "latitude")
