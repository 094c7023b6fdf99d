"""Accounting of disclosures, 5 U.S.C. 552a(c): what a person may see about themselves.

A person finds their entries with an appointment's confirmation code and their name.
Withheld: entries for (b)(7) law-enforcement disclosures (552a(c)(3)); deferred: entries
under a non-disclosure order until it expires. Each visible entry carries the salt and
the log index that let the person recompute the commitment SHA-256(salt ‖ person id ‖
request id) and find it in the public log.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from safeslot.disclosure import repository as repo
from safeslot.disclosure.models import AccountingEntry
from safeslot.disclosure.schemas import AccountingEntryOut, AccountingOut
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import interfaces as scheduling

NOTE = (
    "These are the disclosures of your records that the law lets us show you now. "
    "Some disclosures may be shown only later (while a court's non-disclosure order runs) or not at all "
    "(5 U.S.C. 552a(c)(3)). Each entry's salt and log index let you check it in the public log."
)


def visible(entry: AccountingEntry, now: dt.datetime) -> bool:
    if entry.withheld_b7:
        return False
    return not (entry.deferred_until is not None and now < entry.deferred_until)


def lookup(session: Session, ring: KeyRing, code: str, name: str, now: dt.datetime) -> AccountingOut:
    """The person's visible entries. A wrong code or name returns an empty list, exactly
    as a person with no disclosures gets: the answer never confirms who has entries."""
    entries = repo.accounting_for(session, ring.blind_index(name), scheduling.normalise_code(code))
    return AccountingOut(
        entries=[
            AccountingEntryOut(
                disclosed_at=e.disclosed_at, recipient=e.recipient, recipient_address=e.recipient_address,
                purpose=e.purpose, nature=e.nature,
                categories=list(e.categories), request_id=e.request_id, salt=e.salt, commitment=e.commitment,
                log_index=e.log_index, person_id=e.name_index,
            )
            for e in entries if visible(e, now)
        ],
        note=NOTE,
    )
