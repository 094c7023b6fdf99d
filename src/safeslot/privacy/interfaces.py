"""Privacy's face: all that another domain may use of privacy, in one module (the pattern of Warehouse's
``accounts/interfaces.py``; docs/architecture.md, "Allowed arrows").

To disclosure, the one domain that reads people's records on privacy's terms:

* ``record_access``: every staff read of a person's record writes an access record (who, which record, why,
  when), in the caller's transaction;
* ``review_lookup`` and ``CounselMatch``: counsel's name search inside an accepted request, limited to the
  request's named people and dates;
* ``refuse`` with the refusals ``MatchesRefused`` and ``SearchOutsideRequest``: a refused read raises an
  alert that is committed with the refusal, and nothing else.

The console and the CLI may also call ``service``, ``reads``, ``person``, ``retention``, ``rotation`` and
``statistics``. Privacy's models and repository stay inside privacy (``ruff.toml`` of each folder and
``tests/test_import_graph.py`` refuse imports of them, and of any module but this one, from another domain).
"""

from __future__ import annotations

from safeslot.privacy.errors import MatchesRefused, SearchOutsideRequest
from safeslot.privacy.reads import CounselMatch, refuse, review_lookup
from safeslot.privacy.service import record_access

__all__ = ["CounselMatch", "MatchesRefused", "SearchOutsideRequest", "record_access", "refuse", "review_lookup"]
