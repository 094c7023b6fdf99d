"""Synthetic log entries in the disclosure gate's format (docs/log-entries.md); no personal data."""

from __future__ import annotations

import datetime as dt
from typing import Any

CATS = ("identity", "contact", "appointment_schedule", "visit_history", "language_accommodation")


def iso(when: dt.datetime) -> str:
    return when.isoformat()


def decision(rid: int, when: dt.datetime, *, agency: str = "Agency A", instrument: str = "judicial_warrant",
             purpose: str = "criminal", people: int = 1, allow: tuple[str, ...] = ("appointment_schedule",),
             deny: tuple[str, ...] = (), nda: bool | None = None) -> dict[str, Any]:
    cats = {c: {"outcome": "allow", "policies": ["p"]} for c in allow}
    cats.update({c: {"outcome": "deny", "policies": ["default-deny"]} for c in deny})
    e: dict[str, Any] = {"event": "disclosure.decision", "time": iso(when), "request_id": rid, "agency": agency,
                         "instrument_type": instrument, "purpose": purpose, "people": people,
                         "policy_set_hash": "ab" * 32, "profile": "federal", "categories": cats}
    if nda is not None:
        e["nondisclosure_order"] = nda
    return e


def review_deny(rid: int, when: dt.datetime, agency: str = "Agency A") -> dict[str, Any]:
    return {"event": "disclosure.decision", "time": iso(when), "request_id": rid, "agency": agency,
            "instrument_type": "judicial_warrant", "stage": "review", "outcome": "denied", "role": "counsel"}


def release(rid: int, when: dt.datetime, categories: tuple[str, ...], people: int = 1) -> dict[str, Any]:
    return {"event": "disclosure.release", "time": iso(when), "request_id": rid, "agency": "Agency A",
            "instrument_type": "judicial_warrant", "categories": list(categories), "people": people,
            "policy_set_hash": "ab" * 32, "package_sha256": "cd" * 32, "commitments": ["ef" * 32] * people}


def refused(when: dt.datetime, agency: str = "Agency B", instrument: str = "administrative_warrant") -> dict[str, Any]:
    return {"event": "disclosure.request_refused", "time": iso(when), "agency": agency, "instrument_type": instrument}


def hold(hid: int, when: dt.datetime, lifted: bool = False) -> dict[str, Any]:
    if lifted:
        return {"event": "legal_hold.lifted", "time": iso(when), "hold_id": hid}
    return {"event": "legal_hold.created", "time": iso(when), "hold_id": hid, "agency": "Agency B",
            "purpose": "civil_immigration", "category": None}


def agreement(aid: int, when: dt.datetime, expires: dt.datetime, event: str = "created") -> dict[str, Any]:
    e: dict[str, Any] = {"event": f"sharing_agreement.{event}", "time": iso(when), "agreement_id": aid,
                         "agency": "Agency C"}
    if event in ("created", "renewed"):
        e["expires_at"] = iso(expires)
    return e


def policy_change(when: dt.datetime, step: str = "adopted") -> dict[str, Any]:
    return {"event": "policy.change", "time": iso(when), "change_id": 1, "step": step, "profile": "state",
            "policy_set_hash": "12" * 32}
