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


# Names a branch of `tally` reads that its kind's model does not have, each with its reason. None other may
# appear: a field renamed in one model fails here even when another model still has the old name.
_REVIEW_STAGE = ("a decision with stage 'review' carrying the reviewer's act: no writer here writes it (a "
                 "reviewer's act is a disclosure.review entry) and the model refuses it, but a log holding it is "
                 "counted as before")
_NO_EXPIRY = "one branch for every agreement kind: only created and renewed hold expires_at; the others read None"
NOT_IN_THE_MODEL: dict[tuple[str, str], str] = {
    ("decision", "action"): _REVIEW_STAGE,
    ("decision", "outcome"): _REVIEW_STAGE,
    ("agreement_suspended", "expires_at"): _NO_EXPIRY,
    ("agreement_reinstated", "expires_at"): _NO_EXPIRY,
    ("agreement_expired", "expires_at"): _NO_EXPIRY,
}


def _kind_tests(test: ast.expr) -> set[str] | None:
    """The kinds an ``if`` on ``kind`` selects (``kind == "x"``, ``kind in {...}``, ``kind.startswith("p")``,
    either side of an ``and``); None for a test that is not about the kind."""
    if isinstance(test, ast.BoolOp):
        found = [k for k in map(_kind_tests, test.values) if k is not None]
        return set.intersection(*found) if found else None
    if (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "kind"
            and len(test.comparators) == 1):
        other = test.comparators[0]
        if isinstance(test.ops[0], ast.Eq) and isinstance(other, ast.Constant):
            return {str(other.value)}
        if isinstance(test.ops[0], ast.In) and isinstance(other, ast.Set):
            return {str(c.value) for c in other.elts if isinstance(c, ast.Constant)}
    if (isinstance(test, ast.Call) and isinstance(test.func, ast.Attribute) and test.func.attr == "startswith"
            and isinstance(test.func.value, ast.Name) and test.func.value.id == "kind"
            and isinstance(test.args[0], ast.Constant)):
        return {k for k in schemas.EVENTS if k.startswith(str(test.args[0].value))}
    return None


def _reads_by_kind(source: str) -> dict[str, set[str]]:
    """Kind -> the names read from ``entry`` inside `tally`'s branches for that kind, helpers called with
    ``entry`` there included (``_new_request``); reads outside any branch are under "*"."""
    tree = ast.parse(source)
    helpers = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
    found: dict[str, set[str]] = {}

    def read(node: ast.AST) -> str | None:
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "entry"
                and node.args and isinstance(node.args[0], ast.Constant)):
            return str(node.args[0].value)
        if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "entry"
                and isinstance(node.slice, ast.Constant)):
            return str(node.slice.value)
        return None

    def visit(node: ast.AST, kinds: frozenset[str]) -> None:
        if isinstance(node, ast.If) and (selected := _kind_tests(node.test)) is not None:
            visit(node.test, kinds)
            for child in node.body:
                visit(child, frozenset(selected))
            for child in node.orelse:
                visit(child, kinds)
            return
        if (name := read(node)) is not None:
            for kind in kinds:
                found.setdefault(kind, set()).add(name)
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in helpers
                and any(isinstance(a, ast.Name) and a.id == "entry" for a in node.args)):
            for inner in ast.walk(helpers[node.func.id]):
                if (name := read(inner)) is not None:
                    for kind in kinds:
                        found.setdefault(kind, set()).add(name)
        for child in ast.iter_child_nodes(node):
            visit(child, kinds)

    visit(helpers["tally"], frozenset({"*"}))
    return found


def _fields_of_kind() -> dict[str, set[str]]:
    fields: dict[str, set[str]] = {}
    for model in entries.MODELS:
        for event in model.model_fields["event"].annotation.__args__:  # type: ignore[union-attr]
            kind = schemas.KIND_OF_EVENT.get(event)
            if kind is not None:
                fields.setdefault(kind, set()).update(model.model_fields)
    return fields


def test_each_branch_of_the_tally_reads_only_fields_of_its_own_kinds_model() -> None:
    reads = _reads_by_kind((REPORTS / "tally.py").read_text(encoding="utf-8"))
    assert {"refused", "decision", "release", "withdrawn", "hold_created", "agreement_renewed", "privileged",
            "policy_change"} <= set(reads), "the scan found the branches"
    assert "agency" in reads["refused"] and "agency" in reads["decision"], "the scan follows _new_request"
    fields = _fields_of_kind()
    stray = sorted((kind, name) for kind, names in reads.items() if kind != "*"
                   for name in names - fields[kind] if (kind, name) not in NOT_IN_THE_MODEL)
    assert stray == [], "the report reads a field its entry's model does not have (renamed?)"
    gone = sorted(key for key in NOT_IN_THE_MODEL if key[1] not in reads.get(key[0], set()) or key[1] in fields[key[0]])
    assert gone == [], "no longer read, or now a field: remove it from NOT_IN_THE_MODEL"


def test_the_branch_check_sees_a_field_read_from_the_wrong_kind() -> None:
    source = ("def _new_request(entry):\n    return entry.get('agency')\n"
              "def tally(entries, period):\n    for entry in entries:\n        kind = 'x'\n"
              "        when = entry.get('time')\n"
              "        if kind == 'release':\n            entry.get('commitments')\n            _new_request(entry)\n"
              "        elif kind in {'hold_created', 'hold_lifted'} and when:\n            entry['agreement_id']\n"
              "        elif kind.startswith('agreement_'):\n            entry.get('expires_at')\n")
    reads = _reads_by_kind(source)
    assert reads["*"] == {"time"} and reads["release"] == {"commitments", "agency"}
    assert reads["hold_created"] == reads["hold_lifted"] == {"agreement_id"}
    assert reads["agreement_expired"] == {"expires_at"}
    fields = _fields_of_kind()
    assert "agreement_id" not in fields["hold_created"] and "expires_at" not in fields["agreement_expired"]
