"""A module's tests are found by its name: ``src/safeslot/<folders>/<module>.py`` is tested in
``tests/<folders>/test_<module>.py`` (beside the story tests, which are named after what a user does).

Read from the file tree alone (no import). Modules without logic of their own are left out by name
(``THIN``); the logic modules that have no module-named file yet are listed in ``NOT_YET`` with where
their behaviour is tested today. A ratchet: a new logic module without its test file fails here, and so
does an entry of ``NOT_YET`` that got its file (take it off the list) or whose module is gone.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "safeslot"
TESTS = ROOT / "tests"

# Module names that hold no logic of their own, anywhere: why each is left out.
THIN_NAMES: dict[str, str] = {
    "__init__": "package marker",
    "models": "tables; every service test reads and writes them",
    "schemas": "request and answer shapes; the HTTP stories send and read them",
    "errors": "a domain's error classes; tests/kit/test_errors.py checks every class has its problem page",
    "demo": "demo data",
    "models_all": "imports every model so the metadata knows every table",
    "asgi": "uvicorn's entry point (the app from the environment); tests/kit/test_collector.py starts it",
    "interfaces": "a domain's face for the others (re-exports, thin reads); tests/test_import_graph.py keeps it so",
    "endpoints": "thin routers; the domain's HTTP story tests (test_endpoints.py and the stories) cover them",
}
# Folders whose modules are thin shells over the domains: why each is left out.
THIN_FOLDERS: dict[str, str] = {
    "cli": "Typer commands over the services; each domain's tests/<domain>/test_cli.py runs them",
    "console/public": "public pages; tests/console/ drives them over HTTP and in the browser",
    "console/staff": "staff pages; tests/console/ drives them over HTTP and in the browser",
}

# Logic modules without a module-named test file yet, and where their behaviour is tested today.
# Take an entry off when its file exists; never add one (write the file instead).
NOT_YET: dict[str, str] = {}


def _is_thin(module: str) -> bool:
    folder, _, name = module.rpartition("/")
    return (name in THIN_NAMES or name.endswith("_endpoints")
            or any(folder == f or folder.startswith(f + "/") for f in THIN_FOLDERS))


def logic_modules(src: Path = SRC) -> list[str]:
    """Every module under ``src`` that holds logic, as ``folders/name`` (no ``.py``)."""
    found = (p.relative_to(src).with_suffix("").as_posix() for p in src.rglob("*.py"))
    return sorted(m for m in found if not _is_thin(m))


def expected_test_file(module: str, tests: Path = TESTS) -> Path:
    folder, _, name = module.rpartition("/")
    return tests / folder / f"test_{name}.py"


def without_tests(src: Path = SRC, tests: Path = TESTS) -> list[str]:
    return [m for m in logic_modules(src) if not expected_test_file(m, tests).exists()]


def test_every_logic_module_has_a_test_file_named_after_it() -> None:
    missing = set(without_tests())
    new = sorted(missing - NOT_YET.keys())
    assert not new, (f"logic modules without tests/<folders>/test_<module>.py: {new}; write that file "
                     "(or, for a module without logic, say why in THIN_NAMES or THIN_FOLDERS)")


def test_the_list_of_modules_not_yet_tested_by_name_only_shrinks() -> None:
    missing = set(without_tests())
    done = sorted(NOT_YET.keys() - missing)
    assert not done, f"take these off NOT_YET (their test file exists, or the module is gone or thin): {done}"
    assert all(reason.strip() for reason in NOT_YET.values())


def test_every_thin_folder_and_name_still_exists() -> None:
    names = {p.stem for p in SRC.rglob("*.py")} | {p.stem.removesuffix("_endpoints") for p in SRC.rglob("*.py")}
    assert set(THIN_NAMES) <= names
    assert all((SRC / folder).is_dir() for folder in THIN_FOLDERS)


# -- the check itself, on a made-up tree --------------------------------------------------------------------


def _tree(tmp_path: Path, *files: str) -> tuple[Path, Path]:
    src, tests = tmp_path / "src" / "safeslot", tmp_path / "tests"
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("", encoding="utf-8")
    return src, tests


def test_the_check_names_a_logic_module_without_its_test_file(tmp_path: Path) -> None:
    src, tests = _tree(tmp_path, "src/safeslot/scheduling/__init__.py", "src/safeslot/scheduling/newrule.py",
                       "src/safeslot/scheduling/models.py", "src/safeslot/scheduling/office_endpoints.py",
                       "src/safeslot/cli/newcommand.py", "src/safeslot/newtop.py", "tests/test_newtop.py")
    assert without_tests(src, tests) == ["scheduling/newrule"]


def test_a_test_file_elsewhere_or_otherwise_named_does_not_count(tmp_path: Path) -> None:
    src, tests = _tree(tmp_path, "src/safeslot/scheduling/newrule.py", "tests/test_newrule.py",
                       "tests/scheduling/test_newrule_story.py")
    assert without_tests(src, tests) == ["scheduling/newrule"]
    (tests / "scheduling" / "test_newrule.py").write_text("", encoding="utf-8")
    assert without_tests(src, tests) == []
