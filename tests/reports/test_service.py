"""Reports built from the transparency log, on both databases: recomputed from the log
alone, untouched by the mutable tables, and refused when tampered with."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text, update
from sqlalchemy.orm import Session

from safeslot.disclosure.models import DisclosureRequest
from safeslot.reports import render, service
from safeslot.reports.compute import compute
from safeslot.reports.errors import LogUnreadable, ReportMismatch
from safeslot.reports.schemas import Period
from safeslot.reports.suppress import RANGE_TEXT
from safeslot.transparency import service as log
from safeslot.transparency.note import Signer
from tests.reports import entries as E
from tests.transparency.support import triggers_disabled

NOW = dt.datetime(2027, 3, 1, 14, 0, tzinfo=dt.UTC)
H2 = Period.parse("2026H2")
T0 = dt.datetime(2026, 9, 7, 10, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
URL = "http://testserver/log"


def known_entries() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for rid in range(1, 15):  # 14 released judicial warrants
        out += [E.decision(rid, T0), E.release(rid, T0 + DAY, ("appointment_schedule",))]
    for rid in range(15, 27):  # 12 administrative warrants denied by policy
        out.append(E.decision(rid, T0, agency="agency-2", instrument="administrative_warrant",
                              purpose="civil_immigration", allow=(), deny=("appointment_schedule",)))
    out += [E.refused(T0) for _ in range(3)]
    out += [E.hold(1, T0), E.policy_change(T0)]
    return out


def signer_of(client: TestClient) -> Signer:
    s: Signer = client.app.state.log_signer  # type: ignore[attr-defined]
    return s


def origin_of(client: TestClient) -> str:
    return str(client.app.state.settings.log.origin)  # type: ignore[attr-defined]


def fill(client: TestClient, session: Session) -> None:
    log.append_raw(session, known_entries(), now=NOW)
    session.flush()
    assert client.get("/log/checkpoint").status_code == 200  # signs a checkpoint over them


def build(client: TestClient, session: Session) -> tuple[bytes, service.Published]:
    signer = signer_of(client)
    report = service.compute_from_log(service.LocalLog(session), signer.verifier(), origin_of(client), H2)
    done = service.publish(session, report, service.sign(report, signer), NOW)
    session.flush()
    return render.to_json(report, done.signature), done


def test_a_report_recomputed_from_the_log_alone_matches(client: TestClient, session: Session) -> None:
    fill(client, session)
    document, done = build(client, session)
    report = done.report
    expected = compute(known_entries(), H2)
    expected.checkpoint = report.checkpoint
    assert report.to_json() == expected.to_json()
    assert report.summary["requests"] == 29
    assert report.summary["outcomes"]["released"] == 14
    assert report.checkpoint is not None and report.checkpoint.size == len(known_entries())
    # The hash is in the log, after the checkpoint the report was computed from.
    assert client.get("/log/checkpoint").status_code == 200
    entry = client.get(f"/log/entry/{done.log_index}").json()
    assert "report.published" in json.dumps(entry) and done.sha256 in json.dumps(entry)
    # Anyone recomputes it over HTTP from the tiles alone, with the log's public key.
    again = service.verify(document, service.HttpLog(client, URL), signer_of(client).verifier(), origin_of(client))
    assert again.to_json() == report.to_json()


def test_a_changed_row_in_the_mutable_tables_does_not_change_the_report(client: TestClient,
                                                                        session: Session) -> None:
    fill(client, session)
    row = DisclosureRequest(agency="agency-1", instrument_type="judicial_warrant", issuer="Court", signer_name="Judge",
                            signer_type="judge", statutes=[], purpose="criminal", categories=["contact"],
                            document=b"%PDF", document_sha256="00" * 32, received_at=T0, status="released")
    session.add(row)
    session.flush()
    first, _ = build(client, session)
    session.execute(update(DisclosureRequest).where(DisclosureRequest.id == row.id)
                    .values(agency="Agency Z", status="denied", instrument_type="administrative_warrant"))
    session.flush()
    second, _ = build(client, session)
    assert first == second


def tampered(document: bytes, change: Any) -> bytes:
    data = json.loads(document)
    change(data)
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    ("what", "change", "says"),
    [
        ("a figure", lambda d: d["tables"][0]["rows"][0].__setitem__("total", 13), "tables[0].rows[0].total"),
        ("the summary", lambda d: d["summary"].__setitem__("requests", 28), "summary.requests"),
        ("the checkpoint", lambda d: d["checkpoint"].__setitem__("size", 3), "signature is over a different"),
        ("the signature", lambda d: d.pop("signature"), "not signed"),
    ],
)
def test_a_tampered_report_fails_verify(client: TestClient, session: Session, what: str, change: Any,
                                        says: str) -> None:
    fill(client, session)
    document, _ = build(client, session)
    with pytest.raises(ReportMismatch) as caught:
        service.verify(tampered(document, change), service.HttpLog(client, URL), signer_of(client).verifier(),
                       origin_of(client))
    assert any(says in d for d in caught.value.differences), (what, caught.value.differences)


@pytest.mark.as_owner  # the log is altered as only the schema owner can
def test_a_report_over_an_altered_log_is_refused(client: TestClient, session: Session) -> None:
    fill(client, session)
    document, _ = build(client, session)
    with triggers_disabled(session, "log_entry"):
        session.execute(text("UPDATE log_entry SET data = :d WHERE idx = 3"),
                        {"d": json.dumps(E.refused(T0)).encode()})
    with pytest.raises(LogUnreadable, match="altered"):
        service.verify(document, service.LocalLog(session), signer_of(client).verifier(), origin_of(client))


def test_the_public_page_serves_html_json_and_csv(client: TestClient, session: Session) -> None:
    fill(client, session)
    document, done = build(client, session)
    page = client.get("/transparency/report/2026H2")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert RANGE_TEXT in page.text and "<svg role=\"img\"" in page.text and "<caption>" in page.text
    assert done.sha256 in page.text and "Small numbers" in page.text
    assert client.get("/transparency/report/2026H2.json").content == document
    csv = client.get("/transparency/report/2026H2.csv")
    assert csv.status_code == 200 and csv.text.startswith("table,table_title,row,column,value")
    assert "2026H2" in client.get("/transparency/report").text
    missing = client.get("/transparency/report/2025H1")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    assert client.get("/transparency/report/2026H9").status_code == 422


def test_a_report_still_verifies_after_the_log_grows(client: TestClient, session: Session) -> None:
    """Its checkpoint is then proved a prefix of the new tree, and its last partial tile is read
    from the full tile the log now serves."""
    many = [E.decision(1000 + i, T0, agency=f"agency-{i % 3}") for i in range(600)]
    log.append_raw(session, many, now=NOW)
    session.flush()
    assert client.get("/log/checkpoint").status_code == 200
    document, done = build(client, session)
    assert done.report.summary["requests"] == 600
    log.append_raw(session, [E.decision(5000 + i, T0) for i in range(100)], now=NOW)
    session.flush()
    assert client.get("/log/checkpoint").status_code == 200
    again = service.verify(document, service.HttpLog(client, URL), signer_of(client).verifier(), origin_of(client))
    assert again.checkpoint == done.report.checkpoint


def test_the_html_page_verifies_and_a_changed_figure_on_it_fails(client: TestClient, session: Session) -> None:
    fill(client, session)
    build(client, session)
    page = client.get("/transparency/report/2026H2").content
    source, key = service.HttpLog(client, URL), signer_of(client).verifier()
    assert service.verify(page, source, key, origin_of(client)).summary["requests"] == 29
    # Change a shown figure but not the data block: the page no longer matches what it carries.
    shown = page.replace(b"<dd>29</dd>", b"<dd>28</dd>", 1)
    assert shown != page
    with pytest.raises(ReportMismatch, match="HTML page"):
        service.verify(shown, source, key, origin_of(client))
    # Change the data block too: the log says otherwise.
    both = shown.replace(b'"requests": 29', b'"requests": 28')
    with pytest.raises(ReportMismatch, match=r"summary\.requests"):
        service.verify(both, source, key, origin_of(client))
