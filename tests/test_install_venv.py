"""scripts/install-venv: uv is given every pip setting that changes what is installed, or the install goes to pip.

A fresh machine is configured for pip (here: a local index, a wheel folder, a constraints file, a CA bundle).
If uv installed from anywhere else, `make install` would quietly build a different environment than pip
would; these tests hold the translation to what pip itself would do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.scripts import load_file

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "install-venv"


@pytest.fixture(scope="module")
def iv() -> ModuleType:
    return load_file(SCRIPT, "safeslot_install_venv")


def test_pip_config_list_is_read_with_the_environment_winning(iv: ModuleType) -> None:
    listed = (
        "global.cert='/etc/ssl/certs/ca-certificates.crt'\n"
        "global.extra-index-url='file:///srv/a/simple file:///srv/b/simple'\n"
        "global.timeout='60'\n"
        "download.only-binary=':all:'\n"  # a section `pip install` does not read
        ":env:.timeout='180'\n"
        ":env:.find-links='/srv/wheels'\n"
    )
    assert iv.parse_config_list(listed) == {
        "cert": "/etc/ssl/certs/ca-certificates.crt",
        "extra-index-url": "file:///srv/a/simple file:///srv/b/simple",
        "timeout": "180",
        "find-links": "/srv/wheels",
    }


def test_each_setting_that_chooses_packages_reaches_uv(iv: ModuleType, tmp_path: Path) -> None:
    index_a, index_b, wheels = tmp_path / "a", tmp_path / "b", tmp_path / "wheels"
    for folder in (index_a, index_b, wheels):
        folder.mkdir()
    args, env = iv.uv_arguments({
        "index-url": "https://mirror.example/simple",
        "extra-index-url": f"file://{index_a} file://{index_b}",
        "find-links": str(wheels),
        "constraint": "/etc/xdg/pip/constraints.txt",
        "cert": "/etc/ssl/ca.pem",
        "trusted-host": "mirror.example",
        "default-timeout": "180",
    })
    pairs = list(zip(args[::2], args[1::2], strict=True))
    assert ("--index-strategy", "unsafe-best-match") in pairs  # pip weighs every index, not the first to answer
    assert ("--default-index", "https://mirror.example/simple") in pairs
    assert ("--extra-index-url", f"file://{index_a}") in pairs and ("--extra-index-url", f"file://{index_b}") in pairs
    assert ("--find-links", str(wheels)) in pairs
    assert ("--constraint", "/etc/xdg/pip/constraints.txt") in pairs
    assert ("--allow-insecure-host", "mirror.example") in pairs
    assert env == {"SSL_CERT_FILE": "/etc/ssl/ca.pem"}


def test_a_local_index_that_does_not_exist_is_skipped_as_pip_skips_it(iv: ModuleType, tmp_path: Path) -> None:
    args, _ = iv.uv_arguments({"extra-index-url": f"file://{tmp_path}/gone https://pypi.example/simple",
                               "find-links": f"{tmp_path}/none"})
    assert args == ["--index-strategy", "unsafe-best-match", "--extra-index-url", "https://pypi.example/simple"]


def test_no_index_is_passed_on(iv: ModuleType) -> None:
    assert "--no-index" in iv.uv_arguments({"no-index": "true"})[0]
    assert "--no-index" not in iv.uv_arguments({"no-index": "false"})[0]


@pytest.mark.parametrize("option", ["require-hashes", "only-binary", "pre", "use-pep517", "index"])
def test_a_setting_uv_cannot_be_given_sends_the_install_to_pip(iv: ModuleType, option: str) -> None:
    with pytest.raises(iv.NotTranslatable):
        iv.uv_arguments({option: "1"})


def test_the_environment_is_built_on_the_interpreter_asked_for(
    iv: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """PYTHON runs pip and uv; the environment itself is built on VENV_PYTHON, by uv and by the pip fallback."""
    ran: list[list[str]] = []
    monkeypatch.chdir(tmp_path)  # the pip fallback clears ./.venv first: this one is the test's
    monkeypatch.setattr(iv.shutil, "rmtree", lambda path, **_: ran.append(["rmtree", str(path)]))

    def run(cmd: list[str], env: dict[str, str] | None = None) -> bool:
        ran.append(cmd)
        return True

    class Listed:
        returncode, stdout = 0, ""

    monkeypatch.setattr(iv, "_run", run)
    monkeypatch.setattr(iv.subprocess, "run", lambda cmd, **_: ran.append(cmd) or Listed())
    monkeypatch.setattr(iv, "_uv", lambda python: "/opt/uv")
    monkeypatch.setattr(iv.sys, "argv", ["install-venv", ".venv", "/tool/python3", "/usr/bin/python3.11"])
    monkeypatch.delenv("SAFESLOT_INSTALL_WITH", raising=False)
    iv.main()
    assert ran[0][:2] == ["/tool/python3", "-m"]  # pip's configuration, read by the tool interpreter
    venv = next(cmd for cmd in ran if cmd[:2] == ["/opt/uv", "venv"])
    assert venv[venv.index("--python") + 1] == "/usr/bin/python3.11"

    ran.clear()
    monkeypatch.setenv("SAFESLOT_INSTALL_WITH", "pip")
    iv.main()
    assert ran[:2] == [["rmtree", ".venv"], ["/usr/bin/python3.11", "-m", "venv", ".venv"]]

    ran.clear()  # no third argument: the environment is built on PYTHON, as before
    monkeypatch.setattr(iv.sys, "argv", ["install-venv", ".venv", "/tool/python3"])
    iv.main()
    assert ran[1] == ["/tool/python3", "-m", "venv", ".venv"]


def test_make_builds_on_the_distributions_own_build_of_the_same_python() -> None:
    """The Makefile's VENV_PYTHON: /usr/bin/pythonX.Y for PYTHON's X.Y when that runs, else PYTHON itself."""
    root = SCRIPT.parents[1]

    def chosen(python: str) -> str:
        out = subprocess.run(["make", "-s", "-C", str(root), "print-venv-python", f"PYTHON={python}"],
                             capture_output=True, text=True, check=True)
        return out.stdout.strip()

    minor = "{}.{}".format(*sys.version_info[:2])
    distribution = Path(f"/usr/bin/python{minor}")
    assert chosen(sys.executable) == (str(distribution) if distribution.exists() else sys.executable)
    assert chosen("/nonexistent/python3") == "/nonexistent/python3"  # nothing to ask: PYTHON as given
