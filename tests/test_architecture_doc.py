"""The docs name the tests that guard each invariant; every test they name must exist.

``docs/*.md``, the top README and every domain README pair rules with tests (`tests/x/test_y.py`,
`test_y.py::test_name`, `test_y.py::test_prefix…` for a family of tests, or a test's name alone). A renamed or removed
test would leave a rule that looks guarded and is not: this file reads the docs as text, finds
each cited test file and test name, and fails on any that is gone.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
SRC = ROOT / "src" / "safeslot"

# A cited test, inside backticks: an optional folder path, the file, then optionally ::name (a
# trailing … means "every test whose name starts so").
CITED = re.compile(r"`((?:[\w./-]+/)?test_\w+\.py)(?:::([\w…]+))?`")
# A test cited by its name alone (`test_a_totp_code_works_once`): it must be in the domain's folder.
CITED_NAME = re.compile(r"`(test_[\w…]+)`")


def _docs() -> list[Path]:
    return sorted([*ROOT.glob("docs/*.md"), ROOT / "README.md", *SRC.rglob("README.md")])


def _candidates(doc: Path, cited: str) -> list[Path]:
    """Where a cited path may point: from the repository root, or, from a domain README, that
    domain's test folder (``src/safeslot/scheduling/queue/README.md`` → ``tests/scheduling/queue``
    and its parents); anywhere in the suite otherwise."""
    if cited.startswith("tests/"):
        return [ROOT / cited]
    if doc.is_relative_to(SRC):
        parts = doc.parent.relative_to(SRC).parts
        return [TESTS.joinpath(*parts[:n], cited) for n in range(len(parts), -1, -1)]
    return sorted(TESTS.rglob(cited)) or [TESTS / cited]


@cache
def _test_names(path: Path) -> frozenset[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return frozenset(n.name for n in ast.walk(tree)
                     if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name.startswith("test"))


def _has(files: list[Path], name: str) -> bool:
    return any(n == name or (name.endswith("…") and n.startswith(name[:-1])) for p in files for n in _test_names(p))


def _missing(doc: Path) -> list[str]:
    missing = []
    text = doc.read_text(encoding="utf-8")
    for match in CITED.finditer(text):
        cited, name = match.group(1), match.group(2)
        files = [p for p in _candidates(doc, cited) if p.is_file()]
        if not files:
            missing.append(f"{cited} (no such file)")
        elif name and not _has(files, name):
            missing.append(f"{cited}::{name} (no such test)")
    for match in CITED_NAME.finditer(text):
        folder = _candidates(doc, "x")[0].parent if doc.is_relative_to(SRC) else TESTS
        files = sorted(folder.rglob("test_*.py"))
        # a test's name, or a test file's name without ".py"
        if not _has(files, match.group(1)) and match.group(1) not in {p.stem for p in files}:
            missing.append(f"{match.group(1)} (no such test)")
    return missing


def test_every_test_the_docs_cite_exists() -> None:
    found = {str(doc.relative_to(ROOT)): m for doc in _docs() if (m := _missing(doc))}
    assert found == {}, "rename the citation with the test, or restore the test"


def test_the_architecture_table_cites_tests_for_every_invariant() -> None:
    # Each invariant's row names at least one test file, and the check above reads them all.
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| **")]
    assert len(rows) >= 9
    assert all(CITED.search(row) for row in rows), [r[:40] for r in rows if not CITED.search(r)]


def test_the_check_sees_a_missing_test(tmp_path: Path) -> None:
    # The check must be able to fail: a citation of a file, a name and a prefix that do not exist.
    doc = tmp_path / "doc.md"
    doc.write_text("`tests/test_architecture_doc.py::test_every_test_the_docs_cite_exists` "
                   "`tests/no_such/test_file.py` `tests/test_architecture_doc.py::test_gone` "
                   "`tests/test_architecture_doc.py::test_nothing_starts_so…` "
                   "`tests/test_architecture_doc.py::test_the_check_sees…` "
                   "`test_every_test_the_docs_cite_exists` `test_architecture_doc` `test_renamed_away`")
    assert _missing(doc) == ["tests/no_such/test_file.py (no such file)",
                             "tests/test_architecture_doc.py::test_gone (no such test)",
                             "tests/test_architecture_doc.py::test_nothing_starts_so… (no such test)",
                             "test_renamed_away (no such test)"]


# Documents outside the repository, named by file, by number, by path, or by the work that asked for
# a change (a named or numbered request, what the request "asks", whose working day a figure came
# from): the reason or the date is written instead. Built from pieces so this file does not match itself.
OUTSIDE = re.compile("|".join([r"\b(?:DESIGN|STYLE)\." + "md", r"(?<![A-Za-z])[Ii]ssue[-_ ]?#?\d+",
                               r"(?<![A-Za-z])[Ii]nvariant[-_ ]?#?\d+",
                               r"\.\./" + "shared/",
                               r"\b[A-Z][A-Za-z]* " + r"issues?\b",       # a named one, or a sentence's subject
                               r"\b(?:the|this|that) (?:[\w-]+ )?" + r"issues?\b",  # what one asked
                               r"\b[Tt]he " + r"brief\b",
                               r"\b[Tt]his " + r"session\b",
                               r"\b(?:[Tt]he )?(?:last|next|first|previous) " + r"session\b",
                               r"\bsession's " + r"(?:machine|start|last|code|changes)\b"]))
# Another project's public tracker entry, named with the project and its number, is a reference
# anyone can follow (Easy!Appointments and #31, say). Only these projects, and only with the number.
OTHER_PROJECTS = ("Easy!Appointments", "FastAPI", "Starlette", "SQLAlchemy", "psycopg", "pydantic", "uvicorn",
                  "Playwright", "Chromium", "PostgreSQL", "Patroni", "HAProxy", "PgBouncer", "Cedar", "axe-core")
OTHER_ISSUE = re.compile("(?:" + "|".join(re.escape(p) for p in OTHER_PROJECTS) + r") issue #\d+")
# The rule's own statement in docs/architecture.md, "Invariants".
RULE = "by the " + "issue that introduced it"
SCANNED = ("src", "tests", "docs", "bench", "scripts", "migrations", "policies", "README.md", "Makefile")


def _outside(text: str) -> list[tuple[int, str]]:
    allowed = [range(m.start(), m.end()) for m in OTHER_ISSUE.finditer(text)]
    allowed += [range(m.start(), m.end()) for m in re.finditer(re.escape(RULE), text)]
    return [(m.start(), m.group(0)) for m in OUTSIDE.finditer(text)
            if not any(m.start() in span and m.end() - 1 in span for span in allowed)]


def test_nothing_cites_a_document_outside_the_repository() -> None:
    # The reason is written where the code is, the Cedar files under policies/ included (their
    # rewording is a release's policy change: docs/decisions.md, "The Cedar files say their reasons").
    found = []
    for name in SCANNED:
        root = ROOT / name
        for path in sorted([root] if root.is_file() else root.rglob("*")):
            if not path.is_file() or path.suffix in {".mo", ".json", ".pdf", ".png", ".svg", ".woff2"} \
                    or "vectors" in path.parts or "__pycache__" in path.parts:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            found += [f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, start) + 1}: {cited}"
                      for start, cited in _outside(text)]
    assert found == [], "write the reason itself instead"


def test_the_outside_check_sees_each_kind_of_citation() -> None:
    cited = ["see DESIGN" + ".md", "per issue " + "15", "(invariant " + "4)", "in ../" + "shared/notes/x.md",
             "for the iss" + "ue-11 audit", "def test_invariant_" + "1_x", "added_by_issue_" + "16 = ()",
             "budgeted in the Foundation " + "issue, item 2", "a proposal as the " + "issue asks",
             "The " + "issue says so", "(the " + "issue's target: < 5 ms)", "same options, by the " + "brief",
             "on this " + "sess" + "ion's machine", "This " + "sess" + "ion's machine is slower",
             "the last " + "sess" + "ion's main", "at the " + "sess" + "ion's start",
             "the console " + "issue adds pages",
             "see GitHub " + "iss" + "ue #12", "safeslot " + "iss" + "ue #3"]
    assert [bool(_outside(c)) for c in cited] == [True] * len(cited)
    legitimate = ['invariant "collect the minimum"; docs/style.md', "keys issued by a privacy officer",
                  "has an issue time in the future", "the " + "session's CSRF token", "issue_credential(session)",
                  "a second session in the same process", "the console session works on another office",
                  "as in Easy!Appointments " + "iss" + "ue #31, a slot", "never by a number or " + RULE + "."]
    assert [c for c in legitimate if _outside(c)] == []


# docs/style.md: modules under 400 lines, split by use case past that (by responsibility, the old
# module kept as the import when callers are many: reports/tally.py beside compute.py,
# transparency/merkle_tree.py and merkle_verify.py behind merkle.py).
MODULE_LINES = 400


def test_no_module_grows_past_400_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for p in sorted(SRC.rglob("*.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MODULE_LINES}
    assert long == {}, "split these by use case (docs/style.md, 'Size and comments')"


# Every package with a README (the domains, scheduling/queue, the console) names each of its modules
# there, and those of its sub-packages without a README of their own by their path (`staff/desk.py`),
# so a newcomer reading the folder's README finds every file. The files every domain has by
# convention (docs/architecture.md, "Layers") need no line of their own.
CONVENTIONAL = frozenset({"__init__.py", "models.py", "schemas.py", "repository.py", "errors.py", "demo.py"})


def _unnamed(readme: Path) -> list[str]:
    text = readme.read_text(encoding="utf-8")
    folder = readme.parent
    modules = [p.relative_to(folder).as_posix() for p in sorted(folder.rglob("*.py"))
               if p.name not in CONVENTIONAL
               and not any((d / "README.md").is_file() for d in p.parents if d != folder and d.is_relative_to(folder))]
    return [m for m in modules if not re.search(rf"(?<![\w/]){re.escape(m)}", text)]


def test_every_readme_names_the_modules_of_its_folder() -> None:
    readmes = sorted(SRC.rglob("README.md"))
    assert len(readmes) >= 8
    unnamed = {str(r.relative_to(ROOT)): m for r in readmes if (m := _unnamed(r))}
    assert unnamed == {}, "add a line for each module to its folder's README"


def test_the_readme_check_sees_an_unnamed_module(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("| `named.py` | … | and `other/hidden.py`, `sub/page.py` |")
    for name in ("named.py", "hidden.py", "models.py", "sub/page.py", "sub/lost.py", "own/x.py", "own/README.md"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("")
    assert _unnamed(tmp_path / "README.md") == ["hidden.py", "sub/lost.py"]


# docs/architecture.md, "Allowed arrows": one line per domain (`name ──► other (why), …`, continued on
# lines that start with spaces), read here and held against the imports of every file in src/.
ARROW = re.compile(r"^(\w+)\s+──►\s+(.*)$")
DOMAINS = frozenset({"scheduling", "identity", "privacy", "disclosure", "notifications", "transparency", "reports"})


def _arrows(text: str) -> dict[str, set[str]]:
    block = text.split("## Allowed arrows", 1)[1].split("```", 2)[1]
    arrows: dict[str, set[str]] = {}
    current = None
    for line in block.splitlines():
        if match := ARROW.match(line):
            current, line = match.group(1), match.group(2)
            arrows[current] = set()
        if current is not None:
            arrows[current] |= set(re.findall(r"\b\w+\b", re.sub(r"\([^)]*\)", "", line))) & DOMAINS
    return arrows


def _imported_domains() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {d: set() for d in DOMAINS}
    for domain in DOMAINS:
        for path in (SRC / domain).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module == "safeslot":  # from safeslot import x
                    modules = [f"safeslot.{a.name}" for a in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level:
                    modules = [node.module or ""]
                else:
                    continue
                found[domain] |= {m.split(".")[1] for m in modules
                                  if m.startswith("safeslot.") and m.split(".")[1] in DOMAINS - {domain}}
    return found


def test_the_allowed_arrows_are_the_imports() -> None:
    drawn = _arrows((ROOT / "docs" / "architecture.md").read_text(encoding="utf-8"))
    assert set(drawn) == DOMAINS, "one line per domain"
    assert drawn == _imported_domains(), "draw the new arrow (with its reason) or remove the import"


def test_the_arrow_reader_reads_continuations_and_ignores_reasons() -> None:
    text = ("## Allowed arrows\n\n```\nidentity ──► transparency (why: reports),\n"
            "               scheduling (offices)\nreports ──► kernel only\n```\n")
    assert _arrows(text) == {"identity": {"transparency", "scheduling"}, "reports": set()}


def test_the_architecture_names_every_kernel_module() -> None:
    # The kernel (kit/ and the top-level modules) has no README of its own: docs/architecture.md is its map.
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    unnamed = sorted(p.name for p in (SRC / "kit").glob("*.py") if p.name != "__init__.py"
                     and f"kit/{p.name}" not in page)
    unnamed += sorted(p.name for p in SRC.glob("*.py") if p.name != "__init__.py" and f"`{p.name}`" not in page)
    assert unnamed == [], "name each kit module in docs/architecture.md's kernel paragraph"
