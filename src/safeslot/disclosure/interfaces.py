"""What the console and the CLI may ask disclosure beyond its use-case modules (``service``, ``intake``,
``review``, ``release``, ``accounting``, ``holds``, ``attest``, ``acceptance``), in the pattern of
Warehouse's ``accounts/interfaces.py`` (identity's is ``identity/interfaces.py``).

Disclosure's repository stays inside disclosure (``ruff.toml`` of each folder and
``tests/test_import_graph.py`` refuse imports of it, or of ``disclosure.models``, from outside).
The record types below are what the services hand out: callers read their attributes and pass
them back to a service function; they never query, add or change them.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from safeslot.disclosure import repository as repo
from safeslot.disclosure.models import DisclosureRequest, RequestSubject
from safeslot.disclosure.release import approve_then_release

__all__ = ["DisclosureRequest", "RequestSubject", "approve_then_release", "subjects_in_scope"]


def subjects_in_scope(session: Session, request_id: int) -> Sequence[RequestSubject]:
    """The people a request names, in the order it names them, without those a reviewer dropped."""
    return [s for s in repo.subjects(session, request_id) if s.status != "dropped"]
