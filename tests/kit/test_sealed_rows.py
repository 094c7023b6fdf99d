"""kit/sealed_rows.py on a table of its own (no domain): stale values found, re-sealed in resumable batches,
month-keyed values left to retention, a month's rows moved under its data key, the key ids still named."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import LargeBinary, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from safeslot.kit import sealed_rows
from safeslot.kit.crypto import KeyRing, month_kid
from safeslot.kit.sealed_rows import SealedTable


class _Base(DeclarativeBase):
    pass


class Note(_Base):
    __tablename__ = "note"
    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str]
    body_enc: Mapped[bytes | None] = mapped_column(LargeBinary)


NOTES = SealedTable(Note, ((Note.body_enc, "note.body"),))


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    _Base.metadata.create_all(engine)
    with Session(engine) as session:
        yield session


def _bodies(session: Session, ring: KeyRing) -> list[str | None]:
    session.expire_all()
    return [ring.open(n.body_enc, "note.body") if n.body_enc else None
            for n in session.query(Note).order_by(Note.id)]


def test_stale_values_are_resealed_in_batches_and_the_old_key_can_go(session: Session) -> None:
    old = KeyRing.generate().with_month_keys(["2027-03"])
    session.add_all([Note(month="2027-02", body_enc=old.seal(f"note {i}", "note.body")) for i in range(5)]
                    + [Note(month="2027-02", body_enc=None),
                       Note(month="2027-03", body_enc=old.seal("kept", "note.body", "2027-03"))])
    session.flush()
    before = _bodies(session, old)
    new = old.with_new_key()
    assert sealed_rows.pending(session, new, [NOTES]) == 5  # the empty one and the month-keyed one are not stale
    assert sealed_rows.reseal(session, new, [NOTES], batch_size=2) == 2
    assert sealed_rows.pending(session, new, [NOTES]) == 3
    assert _bodies(session, new) == before
    while sealed_rows.reseal(session, new, [NOTES], batch_size=2):
        pass
    assert sealed_rows.key_ids(session, [NOTES]) == {new.current, month_kid("2027-03")}
    assert _bodies(session, new.without(old.current)) == before


def test_a_months_rows_move_under_its_data_key(session: Session) -> None:
    ring = KeyRing.generate().with_month_keys(["2027-03"])
    session.add_all([Note(month=m, body_enc=ring.seal(m, "note.body")) for m in ("2027-02", "2027-03", "2027-03")])
    session.flush()
    assert sealed_rows.seal_under_month(session, ring, NOTES, "2027-03", Note.month == "2027-03", batch_size=1) == 1
    assert sealed_rows.seal_under_month(session, ring, NOTES, "2027-03", Note.month == "2027-03", batch_size=5) == 1
    assert sealed_rows.seal_under_month(session, ring, NOTES, "2027-03", Note.month == "2027-03", batch_size=5) == 0
    session.expire_all()
    assert [ring.key_id_of(n.body_enc) for n in session.query(Note).order_by(Note.id) if n.body_enc] == [
        ring.current, month_kid("2027-03"), month_kid("2027-03")]
    assert _bodies(session, ring) == ["2027-02", "2027-03", "2027-03"]
