"""scripts/install-venv: uv is given every pip setting that changes what is installed, or the install goes to pip.

A fresh machine is configured for pip (here: a local index, a wheel folder, a constraints file, a CA bundle).
If uv installed from anywhere else, `make install` would quietly build a different environment than pip
would; these tests hold the translation to what pip itself would do."""

from __future__ import annotations

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
