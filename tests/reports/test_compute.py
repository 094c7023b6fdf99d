"""Known log entries in, exact published figures out (pure: no database)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safeslot.reports.compute import compute
from safeslot.reports.errors import BadPeriod
from safeslot.reports.schemas import PRIVILEGED_COUNTS, Period, Table
from safeslot.reports.suppress import HIDDEN_TEXT, RANGE_TEXT
from tests.reports import entries as E

H2 = Period.parse("2026H2")
T0 = dt.datetime(2026, 8, 3, 9, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def table(report: Any, tid: str) -> Table:
    return next(t for t in report.tables if t.id == tid)


def rows(t: Table) -> dict[str, list[Any]]:
    return {r["label"]: [*r["cells"], r["total"]] for r in t.rows} | {"Total": [*t.totals["cells"], t.totals["total"]]}


def test_periods() -> None:
    assert (H2.start, H2.end) == (dt.datetime(2026, 7, 1, tzinfo=dt.UTC), dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
    q = Period.parse("2026Q4")
    assert (q.start.month, q.end.year, q.end.month) == (10, 2027, 1)
    m = Period.parse("2026-02")
    assert (m.start.month, m.end.month) == (2, 3)
    assert Period.parse("2026").end == dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    with pytest.raises(BadPeriod):
        Period.parse("2026H3")


def big_log() -> list[dict[str, Any]]:
    """Agency A: 30 released, 12 narrowed, 15 denied by policy. Agency B: 20 refused at intake, 3 pending."""
    log: list[dict[str, Any]] = []
    rid = 0
    for _ in range(30):
        rid += 1
        log += [E.decision(rid, T0, people=2), E.release(rid, T0 + DAY, ("appointment_schedule",), people=2)]
    for _ in range(12):
        rid += 1
        log += [E.decision(rid, T0, allow=("appointment_schedule", "contact")),
                E.release(rid, T0 + DAY, ("appointment_schedule",))]
    for _ in range(15):
        rid += 1
        log.append(E.decision(rid, T0, instrument="administrative_warrant", purpose="civil_immigration",
                              allow=(), deny=("appointment_schedule",)))
    log += [E.refused(T0) for _ in range(20)]
    for _ in range(3):
        rid += 1
        log.append(E.decision(rid, T0, agency="agency-2", nda=True))
    return log


def test_known_entries_give_exact_figures_with_suppression() -> None:
    report = compute(big_log(), H2)
    by_agency = rows(table(report, "by-agency"))
    # Columns: denied, narrowed, released, withdrawn, pending, total. Agency B's 3 pending are
    # shown as a range; its denied 20 then hides (one withheld in the row), which hides
    # Agency A's denied 15 (one withheld in the column), then A's narrowed 12, then the
    # narrowed total (nothing non-zero left in that column).
    assert by_agency["agency-1"] == [HIDDEN_TEXT, HIDDEN_TEXT, 30, 0, 0, 57]
    assert by_agency["agency-2"] == [HIDDEN_TEXT, 0, 0, 0, RANGE_TEXT, 23]
    assert by_agency["Total"] == [35, HIDDEN_TEXT, 30, 0, RANGE_TEXT, 80]
    # Linked tables withhold the same totals (the narrowed total is hidden everywhere).
    instruments = rows(table(report, "by-instrument"))
    assert instruments["administrative_warrant"] == [35, 0, 0, 0, 0, 35]  # 15 decided + 20 refused at intake
    assert instruments["judicial_warrant"] == [0, HIDDEN_TEXT, 30, 0, RANGE_TEXT, 45]
    assert instruments["Total"] == by_agency["Total"]
    assert report.summary["requests"] == 80
    assert report.summary["outcomes"] == {"denied": 35, "narrowed": HIDDEN_TEXT, "released": 30, "withdrawn": 0,
                                          "pending": RANGE_TEXT}
    people = rows(table(report, "people-by-agency"))
    assert people["Total"][-1] == 30 * 2 + 12 + 15 + 3  # refusals at intake name nobody in the log
    assert report.summary["people_named"] == 90
    cats = rows(table(report, "by-category"))
    # The 20 refused at intake named no categories in the log; 15 + 30 + 12 + 3 asked for schedules.
    assert cats["appointment_schedule"] == [HIDDEN_TEXT, 0, 42, 0, RANGE_TEXT, HIDDEN_TEXT]
    assert cats["contact"] == [0, HIDDEN_TEXT, 0, 0, 0, HIDDEN_TEXT]
    assert cats["Total"] == [HIDDEN_TEXT, HIDDEN_TEXT, 42, 0, RANGE_TEXT, 72]
    nda = rows(table(report, "nondisclosure"))
    assert nda["Under a non-disclosure order"][4] == RANGE_TEXT
    assert report.summary["share_under_nondisclosure_order"] == "not shown (small numbers)"
    assert report.complete is False


def test_no_small_number_is_published_anywhere() -> None:
    report = compute(big_log(), H2)
    for t in report.tables:
        for row in [*t.rows, t.totals]:
            for v in [*row["cells"], row["total"]]:
                assert not (isinstance(v, int) and 1 <= v <= 10), (t.id, row)


def test_a_refusal_at_intake_counts_as_a_denied_request_for_each_category_it_named() -> None:
    log = [E.refused(T0, categories=("identity", "appointment_schedule"), subjects=0) for _ in range(12)]
    r = compute(log, H2)
    assert rows(table(r, "by-category"))["identity"] == [12, 0, 0, 0, 0, 12]
    assert rows(table(r, "by-agency"))["agency-2"] == [12, 0, 0, 0, 0, 12]
    assert rows(table(r, "nondisclosure"))["No non-disclosure order"] == [12, 0, 0, 0, 0, 12]
    assert r.summary["share_under_nondisclosure_order"] == "0.0%"
    assert r.summary["people_named"] == 0


def test_standing_instruments_and_policy_changes() -> None:
    before = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    log = [E.hold(1, before), E.hold(2, T0), E.hold(1, T0 + DAY, lifted=True),
           E.agreement(1, before, expires=dt.datetime(2026, 9, 1, tzinfo=dt.UTC)),
           E.agreement(2, T0, expires=dt.datetime(2027, 9, 1, tzinfo=dt.UTC)),
           E.agreement(3, T0, expires=dt.datetime(2027, 9, 1, tzinfo=dt.UTC)),
           E.agreement(3, T0 + DAY, expires=T0, event="suspended"),
           E.policy_change(T0, "proposed"), E.policy_change(T0 + DAY, "adopted"),
           {"event": "key.change", "time": E.iso(T0)}]
    r = compute(log, H2)
    assert r.standing == {"legal_holds_in_force": 1, "legal_holds_created": 1, "legal_holds_lifted": 1,
                          "sharing_agreements_in_force": 1, "sharing_agreements_created": 2,
                          "sharing_agreements_suspended": 1, "sharing_agreements_renewed": 0,
                          "sharing_agreements_expired": 0, "policy_changes": 2,
                          **dict.fromkeys(PRIVILEGED_COUNTS, 0), "reviewer_roles_granted": 0}
    assert [p["step"] for p in r.policy_changes] == ["proposed", "adopted"]
    assert r.entries_read == 10 and r.entries_skipped == 1


def test_an_empty_period_is_a_report_of_zeros() -> None:
    r = compute([], H2)
    assert r.summary["requests"] == 0
    assert all(t.rows == [] for t in r.tables)


EVENT_KINDS = st.sampled_from(["decision", "deny", "release", "refused", "withdrawn"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 40), EVENT_KINDS, st.sampled_from(["agency-1", "agency-2", "agency-3"]),
                          st.sampled_from(["judicial_warrant", "court_order", "administrative_warrant"]),
                          st.integers(0, 4)), max_size=300))
def test_no_published_figure_is_ever_from_1_to_10(events: list[tuple[int, str, str, str, int]]) -> None:
    log: list[dict[str, Any]] = []
    for rid, kind, agency, instrument, people in events:
        if kind == "decision":
            log.append(E.decision(rid, T0, agency=agency, instrument=instrument, people=people))
        elif kind == "deny":
            log.append(E.review_deny(rid, T0 + DAY))
        elif kind == "release":
            log.append(E.release(rid, T0 + DAY, ("appointment_schedule",), people=people))
        elif kind == "refused":
            log.append(E.refused(T0, agency=agency, instrument=instrument))
        else:
            log.append({"event": "disclosure.withdrawn", "time": E.iso(T0 + DAY), "request_id": rid})
    report = compute(log, H2)
    for t in report.tables:
        for row in [*t.rows, t.totals]:
            line = [*row["cells"], row["total"]]
            assert not any(isinstance(v, int) and 1 <= v <= 10 for v in line), (t.id, row)
            assert sum(v in (RANGE_TEXT, HIDDEN_TEXT) for v in line) != 1, (t.id, row)
    for key in ("requests", "people_named", "under_nondisclosure_order", "emergency_requests"):
        v = report.summary[key]
        assert not (isinstance(v, int) and 1 <= v <= 10), key


def test_privileged_identity_events_are_counted_never_named() -> None:
    """The report counts roles granted, keys issued, deactivations … from the log."""
    def ev(name: str, **extra: object) -> dict[str, object]:
        return {"event": name, "time": E.iso(T0), "account": "0a1b2c3d4e5f60718293a4b5", **extra}

    log = [ev("identity.change_proposed", role="counsel"), ev("identity.role_granted", role="counsel"),
           ev("identity.role_granted", role="auditor"), ev("identity.admin_bootstrapped", role="admin"),
           ev("identity.agency_key_approved"), ev("identity.account_deactivated"), ev("identity.factors_reset"),
           ev("identity.change_rejected"), ev("identity.role_removed", role="auditor")]
    r = compute(log, H2)
    assert r.standing["privileged_changes_proposed"] == 1 and r.standing["privileged_roles_granted"] == 3
    assert r.standing["reviewer_roles_granted"] == 1 and r.standing["agency_keys_issued"] == 1
    assert r.standing["accounts_deactivated"] == 1 and r.standing["factor_resets"] == 1
    assert r.standing["privileged_changes_rejected"] == 1 and r.standing["privileged_roles_removed"] == 1
    assert r.entries_skipped == 0 and "0a1b2c3d" not in str(r.to_json())
def test_free_text_in_an_entry_never_reaches_the_report_or_its_csv() -> None:
    """An old entry's typed agency name (or a formula) is counted as `unregistered`."""
    from safeslot.reports import render

    typed = '=HYPERLINK("http://x","ICE ERO (verbal, for a person)")'
    log = [E.decision(rid, T0, agency=typed) for rid in range(1, 13)]
    log += [E.decision(rid, T0, agency="agency-7", instrument="=1+1 warrant") for rid in range(13, 25)]
    report = compute(log, H2)
    assert set(rows(table(report, "by-agency"))) == {"unregistered", "agency-7", "Total"}
    text = render.to_csv(report).decode()
    assert "HYPERLINK" not in text and "ERO" not in text and "=1+1" not in text
