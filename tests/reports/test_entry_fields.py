"""The report reads the log's entries by the typed models' own field names (no alias table):
every name `reports/tally.py` and `reports/compute.py` read from an entry is a field of some entry model, and
every event it counts is one the log accepts."""

from __future__ import annotations

import ast
from pathlib import Path

from safeslot.reports import schemas
from safeslot.transparency import entries

REPORTS = Path(__file__).resolve().parents[2] / "src" / "safeslot" / "reports"
READERS = (REPORTS / "tally.py", REPORTS / "compute.py")


def _names_read_from_entries() -> set[str]:
    """Every constant key in ``entry.get("...")`` / ``entry["..."]`` in tally.py and compute.py."""
    names = set()
    nodes = [node for path in READERS for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))]
    for node in nodes:
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "entry"
                and node.args and isinstance(node.args[0], ast.Constant)):
            names.add(str(node.args[0].value))
        if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "entry"
                and isinstance(node.slice, ast.Constant)):
            names.add(str(node.slice.value))
    return names


def test_every_field_the_report_reads_is_a_field_of_an_entry_model() -> None:
    read = _names_read_from_entries()
    assert {"time", "request_id", "agency", "categories", "subjects"} <= read, "the scan found the reads"
    fields = {name for model in entries.MODELS for name in model.model_fields}
    # `action` and `outcome` of a reviewer's decision: read from review entries and category outcomes.
    fields |= set(entries.CategoryOutcome.model_fields)
    assert sorted(read - fields) == [], "the report reads names no entry model has"


def test_every_event_the_report_counts_is_one_the_log_accepts() -> None:
    counted = {name for names in schemas.EVENTS.values() for name in names}
    counted |= {name for names in schemas.PRIVILEGED_COUNTS.values() for name in names}
    assert sorted(counted - entries.EVENTS) == [], "the report counts events nobody can write"
    assert not hasattr(schemas, "FIELDS"), "the alias table is gone: read the models' names"
