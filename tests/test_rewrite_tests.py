"""scripts/rewrite-tests: the files it writes are the ones pytest itself reads, and behave as pytest's own.

A wrong file would either be ignored (pytest rewrites again: the saving is lost, silently) or, worse, be used
with different behaviour (an assert without its explanation). Both are checked on a small project of its own,
in a subprocess, with pytest allowed to write: if pytest found the script's file stale or foreign it would
replace it (a new inode)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.scripts import load_file

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "rewrite-tests"
FAILING = "def test_numbers():\n    left, right = 1, 2\n    assert left == right\n"
PASSING = "def test_fine():\n    assert [1, 2] == [1, 2]\n"


def _project(root: Path) -> None:
    (root / "tests" / "inner").mkdir(parents=True)
    (root / "tests" / "test_failing.py").write_text(FAILING)
    (root / "tests" / "inner" / "test_passing.py").write_text(PASSING)
    (root / "tests" / "conftest.py").write_text("")
    (root / "tests" / "helper.py").write_text("VALUE = 1\n")  # not a test module: pytest does not rewrite it


def _env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env.pop("PYTEST_ADDOPTS", None)
    return env


def _pytest_pycs(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in root.rglob("*-pytest-*.pyc")}


def test_pytest_reads_the_written_files_and_explains_the_failing_assert(tmp_path: Path) -> None:
    _project(tmp_path)
    subprocess.run([sys.executable, str(SCRIPT)], cwd=tmp_path, env=_env(), check=True)
    written = _pytest_pycs(tmp_path)
    assert sorted(Path(name).name.split(".")[0] for name in written) == ["conftest", "test_failing", "test_passing"]

    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
                         cwd=tmp_path, env=_env(), capture_output=True, text=True)
    assert run.returncode == 1, run.stdout
    assert "assert 1 == 2" in run.stdout  # the rewritten assert's explanation, as pytest's own rewrite gives
    assert "1 failed, 1 passed" in run.stdout
    assert _pytest_pycs(tmp_path) == written  # read, not replaced


def test_a_changed_module_is_rewritten_and_a_current_one_left_alone(tmp_path: Path) -> None:
    _project(tmp_path)
    script = load_file(SCRIPT, "safeslot_rewrite_tests")
    failing, passing = tmp_path / "tests" / "test_failing.py", tmp_path / "tests" / "inner" / "test_passing.py"
    assert script._rewrite(failing) is True
    assert script._rewrite(failing) is False  # current: untouched
    failing.write_text(FAILING + "\n\ndef test_more():\n    assert True\n")
    assert script._rewrite(failing) is True  # its size changed: stale
    found = script._modules([str(tmp_path / "tests")])
    assert sorted(p.name for p in found) == ["conftest.py", "test_failing.py", "test_passing.py"]  # not helper.py
    assert passing in found


def test_it_stands_aside_when_bytecode_is_not_to_be_written(tmp_path: Path) -> None:
    _project(tmp_path)
    run = subprocess.run([sys.executable, str(SCRIPT)], cwd=tmp_path, env={**_env(), "PYTHONDONTWRITEBYTECODE": "1"},
                         capture_output=True, text=True, check=True)
    assert "skipped" in run.stderr
    assert _pytest_pycs(tmp_path) == {}


def test_a_module_that_does_not_parse_is_left_for_pytest_to_report(tmp_path: Path) -> None:
    _project(tmp_path)
    (tmp_path / "tests" / "test_broken.py").write_text("def test_(:\n")
    run = subprocess.run([sys.executable, str(SCRIPT)], cwd=tmp_path, env=_env(), capture_output=True, text=True)
    assert run.returncode == 0, run.stderr  # `make test` goes on to pytest, which names the file and line
    assert sorted(Path(name).name.split(".")[0] for name in _pytest_pycs(tmp_path)) == [
        "conftest", "test_failing", "test_passing"]
