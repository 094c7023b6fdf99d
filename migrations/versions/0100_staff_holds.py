"""scheduling: capacity is people — staff_hold, appointment.staff_id / interpreter_id

Revision ID: 0100_staff_holds
Revises: 0010_service_translation

Appointments still to come are assigned here, greedily in time order, with the
same preference the booking plan uses (a server who speaks the language first,
then the one who serves the fewest services); those that cannot be assigned stay
with staff_id NULL and are listed for the office's supervisor
(GET /api/v1/offices/{office}/unassigned). Slot counters become the open/closed
grid (capacity - booked places left, booked 0) and interpreter_capacity goes.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

from safeslot.db import UTCDateTime

revision = "0100_staff_holds"
down_revision = "0010_service_translation"
branch_labels = None
depends_on = None

STEP = dt.timedelta(minutes=15)


def upgrade() -> None:
    op.create_table(
        "staff_hold",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.CheckConstraint("role IN ('serve', 'interpret')", name=op.f("ck_staff_hold_role")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_staff_hold_staff_id_staff")),
        sa.ForeignKeyConstraint(["office_id"], ["office.id"], name=op.f("fk_staff_hold_office_id_office"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointment.id"],
                                name=op.f("fk_staff_hold_appointment_id_appointment"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("staff_id", "starts_at", name=op.f("pk_staff_hold")),
    )
    op.create_index("ix_staff_hold_office_time", "staff_hold", ["office_id", "starts_at"])
    op.create_index(op.f("ix_staff_hold_appointment_id"), "staff_hold", ["appointment_id"])
    with op.batch_alter_table("appointment") as batch:
        batch.add_column(sa.Column("staff_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("interpreter_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_appointment_staff_id_staff"), "staff", ["staff_id"], ["id"])
        batch.create_foreign_key(op.f("fk_appointment_interpreter_id_staff"), "staff", ["interpreter_id"], ["id"])
    op.execute("UPDATE slot_capacity SET capacity = capacity - booked, booked = 0")
    op.drop_table("interpreter_capacity")
    _assign_coming_appointments()


def _assign_coming_appointments() -> None:
    conn = op.get_bind()
    now = dt.datetime.now(dt.UTC)
    staff = conn.execute(sa.text("SELECT id, office_id, languages, services FROM staff WHERE active = :t ORDER BY id"),
                         {"t": True}).all()
    slugs = dict(conn.execute(sa.text("SELECT id, slug FROM service")).all())
    appointment = sa.table("appointment", sa.column("id"), sa.column("staff_id"), sa.column("interpreter_id"))
    hold = sa.table("staff_hold", sa.column("staff_id"), sa.column("starts_at", UTCDateTime()),
                    sa.column("office_id"), sa.column("appointment_id"), sa.column("role"))
    rows = conn.execute(
        sa.select(sa.column("id"), sa.column("office_id"), sa.column("service_id"),
                  sa.column("starts_at", UTCDateTime()), sa.column("ends_at", UTCDateTime()), sa.column("language"))
        .select_from(sa.table("appointment"))
        .where(sa.column("status").in_(("booked", "checked-in")), sa.column("ends_at", UTCDateTime()) > now)
        .order_by(sa.column("starts_at"), sa.column("id"))
    ).all()
    busy: dict[int, set[dt.datetime]] = {}
    for a_id, office_id, service_id, start, end, language in rows:
        units = []
        at = start
        while at < end:
            units.append(at)
            at += STEP
        lang = None if language is None or language.split("-")[0] == "en" else language.split("-")[0]
        people = [(m.id, set(m.languages.split()), set(m.services.split())) for m in staff
                  if m.office_id == office_id and not busy.get(m.id, set()).intersection(units)]
        servers = sorted((p for p in people if slugs[service_id] in p[2]),
                         key=lambda p: (lang is not None and lang not in p[1], len(p[2]), p[0]))
        if not servers:
            continue
        server, interpreter = servers[0], None
        if lang is not None and lang not in server[1]:
            speakers = sorted((p for p in people if lang in p[1] and p[0] != server[0]),
                              key=lambda p: (slugs[service_id] in p[2], len(p[2]), p[0]))
            if not speakers:
                continue
            interpreter = speakers[0]
        conn.execute(sa.update(appointment).where(appointment.c.id == a_id).values(
            staff_id=server[0], interpreter_id=interpreter[0] if interpreter else None))
        for person, role in ((server, "serve"), (interpreter, "interpret")):
            if person is None:
                continue
            busy.setdefault(person[0], set()).update(units)
            conn.execute(sa.insert(hold), [{"staff_id": person[0], "starts_at": u, "office_id": office_id,
                                             "appointment_id": a_id, "role": role} for u in units])


def downgrade() -> None:
    op.create_table(
        "interpreter_capacity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.CheckConstraint("booked >= 0 AND booked <= capacity", name=op.f("ck_interpreter_capacity_within_capacity")),
        sa.ForeignKeyConstraint(["office_id"], ["office.id"], name=op.f("fk_interpreter_capacity_office_id_office"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interpreter_capacity")),
        sa.UniqueConstraint("office_id", "language", "starts_at", name=op.f("uq_interpreter_capacity_office_id")),
    )
    with op.batch_alter_table("appointment") as batch:
        batch.drop_constraint(op.f("fk_appointment_interpreter_id_staff"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_appointment_staff_id_staff"), type_="foreignkey")
        batch.drop_column("interpreter_id")
        batch.drop_column("staff_id")
    op.drop_table("staff_hold")
