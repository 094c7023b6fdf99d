"""The fast report build (streamed read, one pass) gives byte for byte the report of the reference
computation: the entries read one C2SP entry bundle at a time and counted by the frozen copy of the
computation as it was (reference_compute.py), on a generated log holding every kind of entry, on
both databases. And it still refuses a log that does not hash to its signed checkpoint."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from safeslot.reports import render, service
from safeslot.reports.errors import LogUnreadable
from safeslot.reports.schemas import EVENTS, Period, Report
from safeslot.transparency import service as log
from safeslot.transparency.note import Signer
from tests.reports import reference_compute
from tests.reports.entries import iso
from tests.transparency.support import triggers_disabled

ORIGIN = "fast.example/log"
NOW = dt.datetime(2027, 3, 1, 14, 0, tzinfo=dt.UTC)
START = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)  # the log begins before 2026H2 and goes on after it
SPAN = dt.timedelta(days=300)
CATS = ("identity", "contact", "appointment_schedule", "visit_history", "language_accommodation")
PRIVILEGED = sorted(EVENTS["privileged"])


def generated(n: int, seed: int) -> Iterator[dict[str, Any]]:
    """About n entries in time order, every kind the log holds, with the odd values the report
    must survive (an unregistered agency, a time with an offset, a missing flag, review stages)."""
    rnd = random.Random(seed)
    step = SPAN / n
    when = START
    open_requests: list[int] = []
    rid = 0
    for i in range(n):
        when += step
        t = iso(when) if rnd.random() < 0.95 else when.isoformat()  # the report's own entries keep isoformat
        roll = rnd.random()
        if roll < 0.30 or not open_requests:
            rid += 1
            open_requests.append(rid)
            asked = rnd.sample(CATS, rnd.randint(1, 3))
            e: dict[str, Any] = {
                "event": "disclosure.decision", "time": t, "request_id": rid,
                "agency": rnd.choice(["agency-1", "agency-2", "agency-3", "agency-12", "Agency Z", 7]),
                "instrument_type": rnd.choice(["judicial_warrant", "court_order", "administrative_warrant",
                                               "emergency", "consent"]),
                "purpose": rnd.choice(["criminal", "civil_immigration", "program_integrity", None, "Not A Code"]),
                "subjects": rnd.randint(0, 4), "candidates": [1], "emergency": rnd.random() < 0.05,
                "policy_set_hash": "ab" * 32, "profile": "federal",
                "categories": [{"category": c, "outcome": rnd.choice(["allow", "allow", "deny"]),
                                "policies": ["p"]} for c in asked]}
            if rnd.random() < 0.8:
                e["nondisclosure_order"] = rnd.random() < 0.3
            yield e
        elif roll < 0.45:
            r = rnd.choice(open_requests)
            cats = rnd.sample(CATS, rnd.randint(1, 3))
            people = rnd.randint(0, 3)
            yield {"event": "disclosure.release", "time": t, "request_id": r, "agency": "agency-1",
                   "instrument_type": "court_order", "categories": cats, "subjects": people,
                   "policy_set_hash": "ab" * 32, "package_sha256": "cd" * 32,
                   "commitments": [f"{r:060x}{k:04x}" for k in range(people)]}
        elif roll < 0.62:
            yield {"event": "disclosure.accounting", "time": t, "request_id": rnd.choice(open_requests),
                   "commitment": f"{i:064x}"}
        elif roll < 0.66:
            r = rnd.choice(open_requests)
            action = rnd.choice(["deny", "narrow", "approve", "accept"])
            if rnd.random() < 0.5:
                yield {"event": "disclosure.review", "time": t, "request_id": r, "action": action, "role": "counsel"}
            else:
                yield {"event": "disclosure.decision", "time": t, "request_id": r, "stage": "review",
                       "action": action, "role": "counsel", "agency": "agency-1",
                       "instrument_type": "judicial_warrant", "purpose": "criminal", "policy_set_hash": "ab" * 32,
                       "categories": [{"category": "contact", "outcome": "deny"}]}
        elif roll < 0.70:
            event = rnd.choice(["disclosure.withdrawn", "disclosure.expired", "disclosure.closed"])
            yield {"event": event, "time": t, "request_id": open_requests.pop(rnd.randrange(len(open_requests))),
                   "status": event.split(".")[1]}
        elif roll < 0.75:
            yield {"event": "disclosure.request_refused", "time": t,
                   "agency": rnd.choice(["agency-2", "agency-4"]), "instrument_type": "administrative_warrant",
                   "purpose": "unknown", "categories": rnd.sample(CATS, rnd.randint(0, 2)),
                   "subjects": rnd.randint(0, 2), "nondisclosure_order": False, "emergency": False}
        elif roll < 0.78:
            yield {"event": "disclosure.refused_before_gate", "time": t, "period": t[:13],
                   "counts": {"no_credential": rnd.randint(1, 5)}}
        elif roll < 0.81:
            hold = rnd.randint(1, 30)
            if rnd.random() < 0.6:
                yield {"event": "legal_hold.created", "time": t, "hold_id": hold, "scope": {"purpose": "criminal"}}
            else:
                yield {"event": "legal_hold.lifted", "time": t, "hold_id": hold}
        elif roll < 0.85:
            aid = rnd.randint(1, 20)
            kind = rnd.choice(["created", "suspended", "reinstated", "renewed", "expired"])
            e = {"event": f"sharing_agreement.{kind}", "time": t, "agreement_id": aid, "agency": "agency-3"}
            if kind == "created":
                e |= {"kind": "mou", "purposes": ["program_integrity"], "categories": ["contact"],
                      "starts_at": iso(when), "expires_at": iso(when + dt.timedelta(days=rnd.randint(10, 400)))}
            elif kind == "renewed":
                e["expires_at"] = iso(when + dt.timedelta(days=rnd.randint(10, 400)))
            yield e
        elif roll < 0.88:
            yield {"event": "policy.change", "time": t, "change_id": rnd.randint(1, 9),
                   "step": rnd.choice(["proposed", "approved", "adopted"]), "profile": "state",
                   "policy_set_hash": f"{i:064x}"}
        elif roll < 0.96:
            e = {"event": rnd.choice(PRIVILEGED), "time": t, "account": f"{i:024x}"}
            if e["event"] == "identity.role_granted":
                e["role"] = rnd.choice(["privacy_officer", "counsel", "clerk"])
            yield e
        elif roll < 0.98:
            yield {"event": "report.published", "time": when.isoformat(), "period": "2026H1", "sha256": "ef" * 32,
                   "checkpoint_size": i, "checkpoint_root": "A" * 43 + "="}
        else:
            yield {"event": "records.heads", "time": t, "heads": {"access_record": f"{i:064x}"}}


def reference(session: Session, signer: Signer, period: Period) -> Report:
    """The reference build: every entry bundle read on its own, hashed, counted by the frozen computation."""
    latest = service.latest_checkpoint(service.LocalLog(session), signer.verifier(), ORIGIN)
    bundles = type("Bundles", (), {"entry_chunks": lambda _self, published, size: service.bundled_chunks(
        service.LocalLog(session), published, size)})()
    entries = service.read_entries(bundles, latest, latest.size, latest.root_hash)
    report: Report = reference_compute.compute(entries, period)
    report.checkpoint = service.CheckpointRef(origin=ORIGIN, size=latest.size,
                                              root_hash=service._b64(latest.root_hash))
    return report


def filled(session: Session, n: int, seed: int) -> Signer:
    signer = Signer.generate(ORIGIN)
    batch = list(generated(n, seed))
    log.append_raw(session, batch, now=NOW)
    log.checkpoint(session, signer, NOW, origin=ORIGIN)
    session.flush()
    return signer


@pytest.mark.parametrize("period", ["2026H2", "2026", "2026-09", "2027", "2026H1"])
def test_the_fast_build_gives_the_reference_report_byte_for_byte(session: Session, period: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "CHUNK", 97)  # many streamed chunks, none aligned with a bundle
    signer = filled(session, 2_500, seed=len(period))
    p = Period.parse(period)
    fast = service.compute_from_log(service.LocalLog(session), signer.verifier(), ORIGIN, p)
    ref = reference(session, signer, p)
    assert fast.entries_read == 2_500
    assert fast.summary["requests"] == ref.summary["requests"]
    assert render.body(fast) == render.body(ref)
    sig = service.sign(fast, signer)
    assert render.to_json(fast, sig) == render.to_json(ref, sig)
    assert render.to_csv(fast) == render.to_csv(ref)
    assert render.to_html(fast, sig, sha=render.sha256(fast)) == render.to_html(ref, sig, sha=render.sha256(ref))


def test_the_generated_log_holds_every_kind_of_entry() -> None:
    kinds = {e["event"] for e in generated(2_500, seed=6)}
    every = {name for names in EVENTS.values() for name in names} | {"disclosure.refused_before_gate",
                                                                     "records.heads"}
    assert every <= kinds


def test_the_reports_figures_are_not_all_small(session: Session) -> None:
    """The comparison means something only if figures pass the small-number line (> 10)."""
    signer = filled(session, 2_500, seed=6)
    report = service.compute_from_log(service.LocalLog(session), signer.verifier(), ORIGIN, Period.parse("2026H2"))
    assert isinstance(report.summary["requests"], int) and report.summary["requests"] > 100
    assert any(isinstance(c, int) and c > 10 for t in report.tables for r in t.rows for c in r["cells"])


@pytest.mark.as_owner  # the log is altered as only the schema owner can
def test_the_fast_build_refuses_an_altered_log(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "CHUNK", 97)
    signer = filled(session, 600, seed=1)
    with triggers_disabled(session, "log_entry"):
        session.execute(text("UPDATE log_entry SET data = :d WHERE idx = 450"),
                        {"d": b'{"event":"disclosure.request_refused","time":"2026-09-01T00:00:00Z"}'})
    with pytest.raises(LogUnreadable, match="altered"):
        service.compute_from_log(service.LocalLog(session), signer.verifier(), ORIGIN, Period.parse("2026H2"))


@pytest.mark.as_owner
@pytest.mark.parametrize(("data", "says"), [(b"[1, 2]", "Entry 301 is not a JSON object"),
                                            (b"{not json", "is not JSON")])
def test_an_entry_that_is_not_a_json_object_is_named(session: Session, monkeypatch: pytest.MonkeyPatch,
                                                      data: bytes, says: str) -> None:
    monkeypatch.setattr(service, "CHUNK", 97)
    signer = filled(session, 400, seed=2)
    with triggers_disabled(session, "log_entry"):
        session.execute(text("UPDATE log_entry SET data = :d WHERE idx = 301"), {"d": data})
    with pytest.raises(LogUnreadable, match=says):
        service.compute_from_log(service.LocalLog(session), signer.verifier(), ORIGIN, Period.parse("2026H2"))
