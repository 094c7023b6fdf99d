"""What the console and the CLI may ask disclosure beyond its use-case modules (``service``, ``intake``,
``review``, ``release``, ``accounting``, ``holds``, ``attest``, ``acceptance``, ``document_view``), in the
pattern of Warehouse's ``accounts/interfaces.py`` (identity's is ``identity/interfaces.py``).

Disclosure's repository stays inside disclosure (``ruff.toml`` of each folder and
``tests/test_import_graph.py`` refuse imports of it, or of ``disclosure.models``, from outside).
``DisclosureRequest`` is the record the services hand out: callers read its attributes and pass it
back to a service function; they never query, add or change it.
"""

from __future__ import annotations

from safeslot.disclosure.document_view import DocumentView
from safeslot.disclosure.models import DisclosureRequest
from safeslot.disclosure.release import approve_then_release

__all__ = ["DisclosureRequest", "DocumentView", "approve_then_release"]
