"""Synthetic log entries in the disclosure gate's format (docs/log-entries.md); no personal data."""

from __future__ import annotations

import datetime as dt
from typing import Any

CATS = ("identity", "contact", "appointment_schedule", "visit_history", "language_accommodation")


def iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # as disclosure/logbook.rfc3339


def decision(rid: int, when: dt.datetime, *, agency: str = "agency-1", instrument: str = "judicial_warrant",
             purpose: str = "criminal", people: int = 1, allow: tuple[str, ...] = ("appointment_schedule",),
             deny: tuple[str, ...] = (), nda: bool | None = None) -> dict[str, Any]:
    cats = [{"category": c, "outcome": "allow", "policies": ["p"]} for c in allow]
    cats += [{"category": c, "outcome": "deny", "policies": ["default-deny"]} for c in deny]
    e: dict[str, Any] = {"event": "disclosure.decision", "time": iso(when), "request_id": rid, "agency": agency,
                         "instrument_type": instrument, "purpose": purpose, "subjects": people,
                         "emergency": instrument == "emergency",
                         "policy_set_hash": "ab" * 32, "profile": "federal", "categories": cats}
    if nda is not None:
        e["nondisclosure_order"] = nda
    return e


def review_deny(rid: int, when: dt.datetime, agency: str = "agency-1") -> dict[str, Any]:
    """As disclosure/review.py logs a reviewer's denial."""
    return {"event": "disclosure.decision", "time": iso(when), "request_id": rid, "agency": agency,
            "instrument_type": "judicial_warrant", "purpose": "criminal", "stage": "review", "action": "deny",
            "role": "counsel", "categories": [{"category": "appointment_schedule", "outcome": "deny"}],
            "policy_set_hash": "ab" * 32}


def release(rid: int, when: dt.datetime, categories: tuple[str, ...], people: int = 1) -> dict[str, Any]:
    return {"event": "disclosure.release", "time": iso(when), "request_id": rid, "agency": "agency-1",
            "instrument_type": "judicial_warrant", "categories": list(categories), "subjects": people,
            "policy_set_hash": "ab" * 32, "package_sha256": "cd" * 32, "commitments": ["ef" * 32] * people}


def refused(when: dt.datetime, agency: str = "agency-2", instrument: str = "administrative_warrant",
            categories: tuple[str, ...] = (), subjects: int = 0) -> dict[str, Any]:
    """As disclosure/intake.py logs a refusal at intake (no request id: nothing was kept)."""
    return {"event": "disclosure.request_refused", "time": iso(when), "agency": agency,
            "instrument_type": instrument, "purpose": "unknown", "categories": list(categories),
            "subjects": subjects, "nondisclosure_order": False, "emergency": False}


def hold(hid: int, when: dt.datetime, lifted: bool = False) -> dict[str, Any]:
    if lifted:
        return {"event": "legal_hold.lifted", "time": iso(when), "hold_id": hid}
    return {"event": "legal_hold.created", "time": iso(when), "hold_id": hid, "agency": "agency-2",
            "purpose": "civil_immigration", "category": None}


def agreement(aid: int, when: dt.datetime, expires: dt.datetime, event: str = "created") -> dict[str, Any]:
    e: dict[str, Any] = {"event": f"sharing_agreement.{event}", "time": iso(when), "agreement_id": aid,
                         "agency": "agency-3"}
    if event in ("created", "renewed"):
        e["expires_at"] = iso(expires)
    return e


def policy_change(when: dt.datetime, step: str = "adopted") -> dict[str, Any]:
    return {"event": "policy.change", "time": iso(when), "change_id": 1, "step": step, "profile": "state",
            "policy_set_hash": "12" * 32}
