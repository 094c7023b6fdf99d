"""The shape of the code, read from the source with ``ast`` (no import, no database).

Four rules from docs/architecture.md, each a ratchet: what exists today is listed below as debt
to pay off, and anything new fails.

* The kernel (``safeslot.kit`` and the top-level modules but app, asgi and models_all) imports no
  domain and no shell.
* A domain, the console or the CLI never imports another domain's ``models``, ``repository`` or
  a private (``_``) name. (ruff's TID251 refuses the same imports at lint time, through the
  ``ruff.toml`` of each domain folder.)
* A domain imports another only through its face, ``interfaces.py``; the console and the CLI may also
  call a domain's service-level modules.
* No loop between domains, of any length (a -> b -> c -> a as well as a pair), through any import: at
  module level, inside a function, or under ``if TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "safeslot"
DOMAINS = frozenset({"scheduling", "identity", "privacy", "disclosure", "notifications", "transparency", "reports"})
SHELLS = frozenset({"console", "cli"})

# Crossings that exist today: (importing file, imported module). Remove an entry when its crossing
# goes; never add one — go through the other domain's interfaces.py instead.
KNOWN_CROSSINGS: frozenset[tuple[str, str]] = frozenset()

@cache
def _tree(text: str) -> ast.Module:
    """A source's syntax tree, parsed once per process for every test here that reads it (keyed by the text, so
    a test's own temporary sources get theirs); the trees are only read."""
    return ast.parse(text)


def _imports(path: Path, *, module_level_only: bool, src: Path = SRC) -> Iterator[tuple[str, list[str]]]:
    """(absolute module, imported names) for every ``import`` / ``from … import`` in a file."""
    rel = path.relative_to(src.parent).with_suffix("").parts
    package = rel if path.name == "__init__.py" else rel[:-1]
    tree = _tree(path.read_text(encoding="utf-8"))
    nodes: list[ast.stmt] = list(tree.body) if module_level_only else [
        n for n in ast.walk(tree) if isinstance(n, ast.stmt)]
    if module_level_only:  # also imports inside module-level try/if, but not under TYPE_CHECKING
        for node in list(nodes):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.If | ast.Try):
                nodes.extend(n for n in ast.walk(node) if isinstance(n, ast.stmt))
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1]) if node.level else ""
            module = ".".join(p for p in (base, node.module or "") if p)
            yield module, [a.name for a in node.names]


def _area(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "safeslot" else None


def _files(*areas: str, src: Path = SRC) -> Iterator[tuple[str, Path]]:
    for area in areas:
        for path in sorted((src / area).rglob("*.py")):
            yield area, path


def test_the_kernel_imports_no_domain_and_no_shell() -> None:
    found = [(str(path.relative_to(SRC)), module)
             for _, path in _files("kit")
             for module, _ in _imports(path, module_level_only=False)
             if _area(module) in DOMAINS | SHELLS]
    assert found == [], "the kit is below every domain; move the shared piece into kit/ instead"


# The top-level modules of src/safeslot/ that wire the domains together (shells, above every domain); every
# other top-level module is kernel, below them, like kit/.
WIRING = frozenset({"app.py", "asgi.py", "models_all.py"})
# A kernel import that points up, with its reason: the hash chains must see every chained table, so
# `chain.chained_tables` loads the model registry (models_all) inside the function before walking them.
KERNEL_EXCEPTIONS = frozenset({("chain.py", "safeslot.models_all")})


def _kernel_upward_imports(src: Path = SRC) -> set[tuple[str, str]]:
    """(kernel file, module) for every import by a top-level kernel module of a domain, a shell or a wiring module."""
    upward = DOMAINS | SHELLS | {name.removesuffix(".py") for name in WIRING}
    return {(path.name, target if module == "safeslot" else module)
            for path in sorted(src.glob("*.py")) if path.name not in WIRING
            for module, names in _imports(path, module_level_only=False, src=src)
            for target in ([module] if module != "safeslot" else [f"safeslot.{n}" for n in names])
            if _area(target) in upward}


def test_the_top_level_kernel_modules_import_no_domain_and_no_shell() -> None:
    # config, db, deps, chain, headers, failures, openapi, ...: below every domain, as kit/ is.
    found = sorted(_kernel_upward_imports() - KERNEL_EXCEPTIONS)
    assert found == [], "the kernel is below every domain: move the shared piece down, or have app.py pass it in"


def test_the_kernel_check_sees_an_upward_import(tmp_path: Path) -> None:
    src = tmp_path / "safeslot"
    src.mkdir()
    (src / "openapi.py").write_text("def f():\n    from safeslot.identity import authz\n")
    (src / "chain.py").write_text("from safeslot.transparency.canonical import canonical_json\n"
                                  "from safeslot import models_all, db\n")
    (src / "app.py").write_text("from safeslot.scheduling import endpoints\n")
    assert _kernel_upward_imports(src) == {("openapi.py", "safeslot.identity"),
                                           ("chain.py", "safeslot.transparency.canonical"),
                                           ("chain.py", "safeslot.models_all")}


def _domain_upward_imports(src: Path = SRC) -> set[tuple[str, str]]:
    """(domain file, module) for every import by a domain of a shell (console, cli) or a wiring module."""
    upward = SHELLS | {name.removesuffix(".py") for name in WIRING}
    return {(str(path.relative_to(src)), target if module == "safeslot" else module)
            for _, path in _files(*sorted(DOMAINS), src=src)
            for module, names in _imports(path, module_level_only=False, src=src)
            for target in ([module] if module != "safeslot" else [f"safeslot.{n}" for n in names])
            if _area(target) in upward}


def test_no_domain_imports_a_shell() -> None:
    # The console and the CLI sit above the domains and call them; a domain that needs a piece of the console
    # (the languages, the catalogs) finds it in the kernel.
    assert sorted(_domain_upward_imports()) == [], "move the shared piece into the kernel"


def test_the_shell_check_sees_a_domain_importing_the_console(tmp_path: Path) -> None:
    src = tmp_path / "safeslot"
    (src / "notifications").mkdir(parents=True)
    (src / "notifications" / "reminders.py").write_text("from safeslot.console import i18n\nfrom safeslot import app\n")
    assert _domain_upward_imports(src) == {("notifications/reminders.py", "safeslot.console"),
                                           ("notifications/reminders.py", "safeslot.app")}


def _crossings(src: Path = SRC) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for area, path in _files(*sorted(DOMAINS | SHELLS), src=src):
        for module, names in _imports(path, module_level_only=False, src=src):
            other = _area(module)
            if other is None or other == area or other not in DOMAINS:
                continue
            for target in [module, *(f"{module}.{n}" for n in names)]:
                parts = target.split(".")  # a sub-package's own too: scheduling.queue.models
                inner = next((i for i, part in enumerate(parts) if i >= 2 and part in ("models", "repository")), None)
                if inner is not None:
                    found.add((str(path.relative_to(src)), ".".join(parts[: inner + 1])))
            if any(n.startswith("_") for n in names):
                found.add((str(path.relative_to(src)), module + " (private name)"))
    return found


def test_no_new_import_of_another_domains_models_repository_or_private_names() -> None:
    new = sorted(_crossings() - KNOWN_CROSSINGS)
    assert new == [], f"go through the other domain's interfaces.py instead: {new}"


def test_the_crossing_check_sees_a_crossing(tmp_path: Path) -> None:
    # The check above must be able to fail: crossings planted in a copy of the layout are found, in a
    # sub-package of the console too, by the same code.
    src = tmp_path / "safeslot"
    (src / "console" / "staff").mkdir(parents=True)
    (src / "console" / "staff" / "page.py").write_text(
        "from safeslot.scheduling.models import Office\nfrom safeslot.disclosure import repository\n")
    (src / "privacy").mkdir()
    (src / "privacy" / "reads.py").write_text(
        "from ..identity import models\nfrom safeslot.scheduling.service import _private\n"
        "from safeslot.scheduling.queue.models import QueueTicket\nfrom safeslot.scheduling.queue import repository\n")
    assert _crossings(src) == {
        ("console/staff/page.py", "safeslot.scheduling.models"),
        ("console/staff/page.py", "safeslot.disclosure.repository"),
        ("privacy/reads.py", "safeslot.identity.models"),
        ("privacy/reads.py", "safeslot.scheduling.service (private name)"),
        ("privacy/reads.py", "safeslot.scheduling.queue.models"),
        ("privacy/reads.py", "safeslot.scheduling.queue.repository"),
    }


def test_the_console_reads_no_domains_models_or_repository() -> None:
    # Not even as debt: the console (public/, staff/, shared) calls services and interfaces.py only.
    assert not {c for c in KNOWN_CROSSINGS if c[0].startswith("console/")}
    assert {c for c in _crossings() if c[0].startswith("console/")} == set()


def test_the_console_calls_no_domains_endpoints() -> None:
    # A route module is wiring (app.py includes it), not a contract: a page that needs what a route
    # does calls the function behind it in the domain's service or interfaces.py.
    found = sorted((str(path.relative_to(SRC)), module)
                   for _, path in _files("console")
                   for module, names in _imports(path, module_level_only=False)
                   if _area(module) in DOMAINS
                   and ("endpoints" in module.split(".")[2:3] or (module.count(".") == 1 and "endpoints" in names)))
    assert found == [], "call the domain's service or interfaces.py instead"


def test_lint_refuses_a_new_console_page_reading_a_domains_models_repository_or_endpoints() -> None:
    # make lint runs ruff with each folder's ruff.toml: the console's bans reach its sub-packages and
    # exempt no file; a domain's interfaces.py stays allowed.
    page = "from safeslot.scheduling.models import Office\nfrom safeslot.identity import repository\n" \
           "from safeslot.scheduling.interfaces import Staff\nfrom safeslot.transparency.endpoints import router\n" \
           "from safeslot.scheduling.queue.models import QueueTicket\n" \
           "from safeslot.scheduling.queue import repository\n"
    found = {}
    for name in ("public/new_page.py", "staff/new_page.py", "new_shared.py"):
        result = subprocess.run(
            [str(Path(sys.executable).parent / "ruff"), "check", "--no-cache", "--select", "TID251",
             "--output-format", "concise", "--stdin-filename", str(SRC / "console" / name), "-"],
            input=page, capture_output=True, text=True, check=False)
        found[name] = (result.returncode, sorted(line.split(":")[1] for line in result.stdout.splitlines()
                                                 if "TID251" in line))
    assert found == dict.fromkeys(found, (1, ["1", "2", "4", "5", "6"])), found


def _loops(edges: set[tuple[str, str]]) -> set[frozenset[str]]:
    """Every loop, however long: the graph's strongly connected components of more than one domain (each
    domain of one reaches every other one in it through imports, and is reached back)."""
    nodes = {node for edge in edges for node in edge}

    def reach(start: str) -> set[str]:
        seen: set[str] = set()
        todo = [start]
        while todo:
            here = todo.pop()
            todo += [b for a, b in edges if a == here and b not in seen]
            seen |= {b for a, b in edges if a == here}
        return seen

    reached = {node: reach(node) for node in nodes}
    return {frozenset(m for m in nodes if m in reached[n] and n in reached[m]) for n in nodes if n in reached[n]}


def test_the_loop_check_sees_a_loop_of_any_length() -> None:
    # The check below must be able to fail: a pair, a loop through three domains (scheduling -> identity ->
    # notifications -> scheduling, which a check of pairs alone missed) and one through all seven.
    assert _loops({("a", "b"), ("b", "a"), ("c", "a")}) == {frozenset("ab")}
    assert _loops({("scheduling", "identity"), ("identity", "notifications"),
                   ("notifications", "scheduling"), ("disclosure", "scheduling")}) == {
        frozenset({"scheduling", "identity", "notifications"})}
    ring = sorted(DOMAINS)
    assert _loops({(a, b) for a, b in zip(ring, ring[1:] + ring[:1], strict=True)}) == {DOMAINS}
    assert _loops({("a", "b"), ("b", "c"), ("a", "c")}) == set()  # a diamond is no loop
    # and today's graph with one back edge added is reported
    edges = _package_edges()
    assert ("scheduling", "identity") in edges  # scheduling asks identity who is signed in
    assert frozenset({"scheduling", "identity"}) in _loops(edges | {("identity", "scheduling")})


def test_the_loop_graph_counts_imports_inside_functions_and_for_type_checking_only(tmp_path: Path) -> None:
    src = tmp_path / "safeslot"
    for domain in sorted(DOMAINS):
        (src / domain).mkdir(parents=True)
    (src / "scheduling" / "offices.py").write_text("from safeslot.identity import interfaces\n")
    (src / "identity" / "mail.py").write_text("def send():\n    from safeslot.notifications import interfaces\n")
    (src / "notifications" / "reminders.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from safeslot.scheduling.interfaces import X\n")
    edges = _package_edges(src)
    assert edges == {("scheduling", "identity"), ("identity", "notifications"), ("notifications", "scheduling")}
    assert _loops(edges) == {frozenset({"scheduling", "identity", "notifications"})}


def _include_router_calls(src: Path = SRC) -> list[str]:
    return sorted(f"{path.relative_to(src)}:{node.lineno}"
                  for path in src.rglob("*.py")
                  for node in ast.walk(_tree(path.read_text(encoding="utf-8")))
                  if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr == "include_router")


def test_every_router_is_included_by_app_py() -> None:
    # One place says which routes the service has: app.py's _mount_domains and _mount_console. A domain's
    # setup() adds its state and middleware only, so no router is included out of sight of that list.
    found = [call for call in _include_router_calls() if not call.startswith("app.py:")]
    assert found == [], "include the router in app.py"
    assert len(_include_router_calls()) > 20, "the scan found app.py's includes"


def test_nothing_is_imported_by_name() -> None:
    # Routers, commands and demos are wired with ordinary imports, so the type checker sees every one.
    # (The tests that walk every module to find every error class or message are the exception.)
    by_name = {"import_module", "__import__", "import_optional", "spec_from_file_location"}
    found = sorted(f"{path.relative_to(SRC.parents[1])}:{node.lineno}"
                   for root in (SRC, SRC.parents[1] / "bench")
                   for path in root.rglob("*.py")
                   for node in ast.walk(_tree(path.read_text(encoding="utf-8")))
                   if (isinstance(node, ast.Name | ast.Attribute)
                       and (node.id if isinstance(node, ast.Name) else node.attr) in by_name)
                   or (isinstance(node, ast.Import | ast.ImportFrom)
                       and any(a.name.split(".")[0] == "importlib" for a in node.names)
                       | ((getattr(node, "module", None) or "").startswith("importlib"))))
    assert found == [], "import it by its name in the source instead"


# Loops between domains, of any length (a -> b -> c -> a counts), through any import: at module level, inside
# a function, or under ``if TYPE_CHECKING`` (a type-only import still ties the two contracts together, and
# mypy follows it). None is left: where identity's two-person changes act on what another domain owns (a
# hold, an agreement, an office), that domain registers the effect with identity (`proposals.register_effect`);
# the gate's refusal count reaches identity through the app's state; reminders read scheduling's appointments
# through what the shells hand them (`notifications.reminders.install`, called by `cli/outbox_kinds.register_all`).
KNOWN_LOOPS: frozenset[frozenset[str]] = frozenset()


def _package_edges(src: Path = SRC) -> set[tuple[str, str]]:
    return {(area, other)
            for area, path in _files(*sorted(DOMAINS), src=src)
            for module, _ in _imports(path, module_level_only=False, src=src)
            if (other := _area(module)) in DOMAINS and other != area}


def test_no_import_loop_between_domains_of_any_length_through_any_import() -> None:
    edges = _package_edges()
    loops = _loops(edges)
    assert sorted(map(sorted, loops - KNOWN_LOOPS)) == [], "pass the function in from app.py or the CLI instead"
    assert sorted(map(sorted, KNOWN_LOOPS - loops)) == [], "a loop is gone: remove it from the list"
    assert ("privacy", "scheduling") in edges, "the scan sees privacy reading appointments"
    assert ("transparency", "disclosure") not in edges, "the log knows nothing of what is logged"
    assert not {e for e in edges if e[0] == "reports" and e[1] != "transparency"}, "reports read the log only"


# What each domain offers the other domains: its face, one module, ``interfaces.py`` (the pattern of Warehouse's
# ``accounts/interfaces.py``). A domain imports nothing else of another: not its service, errors, schemas,
# route dependencies or pure helpers; the face re-exports what is needed (docs/architecture.md, "Allowed
# arrows"). The console and the CLI may call any service-level module; tests and bench/ are not domains.
FACE = "interfaces"
FACES: dict[str, frozenset[str]] = {domain: frozenset({FACE}) for domain in sorted(DOMAINS)}


def _face_imports(src: Path = SRC) -> set[tuple[str, str, str]]:
    """(importing file, other domain, module of it) for every import of one domain by another."""
    found: set[tuple[str, str, str]] = set()
    for area, path in _files(*sorted(DOMAINS), src=src):
        for module, names in _imports(path, module_level_only=False, src=src):
            other = _area(module)
            if other not in DOMAINS or other == area:
                continue
            parts = module.split(".")[2:]
            subs = [[*parts, n] for n in names] if not parts or (src / other / Path(*parts)).is_dir() else [parts]
            found |= {(str(path.relative_to(src)), other, ".".join(sub)) for sub in subs}
    return found


def test_a_domain_calls_another_only_through_its_face() -> None:
    imports = _face_imports()
    outside = sorted(f"{file} -> {other}.{sub}" for file, other, sub in imports if sub not in FACES[other])
    assert outside == [], "go through the other domain's interfaces.py (re-export the name there)"
    assert {(other, sub) for _, other, sub in imports} >= {("scheduling", FACE), ("transparency", FACE)}, \
        "the scan sees today's crossings"
    assert all((SRC / domain / f"{FACE}.py").is_file() for domain in DOMAINS), "every domain has its face"


def test_the_face_check_sees_a_module_outside_the_face(tmp_path: Path) -> None:
    src = tmp_path / "safeslot"
    (src / "scheduling" / "queue").mkdir(parents=True)
    (src / "disclosure").mkdir()
    (src / "identity").mkdir()
    (src / "disclosure" / "notices.py").write_text(
        "from safeslot.scheduling import fastpath\nfrom safeslot.scheduling.queue import views\n"
        "from safeslot.scheduling.interfaces import Appointment\n"
        "from safeslot.scheduling import service as scheduling, interfaces\n"
        "def f():\n    from ..identity.guard import StaffDep\n    import safeslot.identity.service\n")
    found = _face_imports(src)
    assert found == {("disclosure/notices.py", "scheduling", "fastpath"),
                     ("disclosure/notices.py", "scheduling", "queue.views"),
                     ("disclosure/notices.py", "scheduling", "interfaces"),
                     ("disclosure/notices.py", "scheduling", "service"),
                     ("disclosure/notices.py", "identity", "guard"),
                     ("disclosure/notices.py", "identity", "service")}
    assert sorted(f"{o}.{sub}" for _, o, sub in found if sub not in FACES[o]) == [
        "identity.guard", "identity.service", "scheduling.fastpath", "scheduling.queue.views", "scheduling.service"]


def test_lint_refuses_a_domain_importing_another_domains_module_but_its_face() -> None:
    # make lint runs ruff with each domain folder's ruff.toml: the usual modules of every other domain (its
    # service, errors, schemas, demo, routes, models, repository, and the ones crossed before the faces) are
    # banned; its interfaces.py stays allowed. The face check above covers every other module.
    found, expected = {}, {}
    for domain in sorted(DOMAINS):
        other = "identity" if domain == "scheduling" else "scheduling"
        module = "transparency" if domain != "transparency" else "identity"
        page = (f"from safeslot.{other}.service import x\nfrom safeslot.{other} import errors\n"
                f"from safeslot.{other}.interfaces import y\nfrom safeslot.{other}.models import z\n"
                f"from safeslot.{module} import interfaces\nimport safeslot.{module}.demo\n")
        result = subprocess.run(
            [str(Path(sys.executable).parent / "ruff"), "check", "--no-cache", "--select", "TID251",
             "--output-format", "concise", "--stdin-filename", str(SRC / domain / "new_module.py"), "-"],
            input=page, capture_output=True, text=True, check=False)
        found[domain] = (result.returncode, sorted(line.split(":")[1] for line in result.stdout.splitlines()
                                                   if "TID251" in line))
        expected[domain] = (1, ["1", "2", "4", "6"])
    assert found == expected
