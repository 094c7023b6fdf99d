"""The reference deployment's own rules (scripts/cluster): WAL archiving that survives a failover, and the
Patroni settings that make an acknowledged write durable on two machines. The deployment itself is exercised
by `make failover-drill` and `make restore-drill` (slow, need root and Debian's packages; docs/operations.md)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from importlib.machinery import SourceFileLoader
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "cluster"


@pytest.fixture(scope="module")
def cluster() -> ModuleType:
    loader = SourceFileLoader("safeslot_cluster_script", str(SCRIPT))  # a script without .py
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


@pytest.fixture
def archive_wal(cluster: ModuleType, tmp_path: Path) -> tuple[Path, Path]:
    archive = tmp_path / "archive"
    archive.mkdir()
    script = tmp_path / "archive-wal"
    script.write_text(cluster.ARCHIVE_WAL.replace(f"ARCHIVE={cluster.BASE / 'archive'}", f"ARCHIVE={archive}"))
    script.chmod(0o755)
    return script, archive


def segment(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / "pg_wal" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content)
    return path


def test_a_segment_is_archived_once_and_its_copy_is_never_overwritten(
    archive_wal: tuple[Path, Path], tmp_path: Path,
) -> None:
    script, archive = archive_wal
    wal = segment(tmp_path, "000000010000000000000001", b"history")
    assert subprocess.run([script, wal, wal.name], check=False).returncode == 0
    assert (archive / wal.name).read_bytes() == b"history"
    assert not list(archive.glob("*.tmp"))
    # After a failover the other node offers the same segment of the shared history: the same bytes are done.
    assert subprocess.run([script, wal, wal.name], check=False).returncode == 0
    # Different bytes under an archived name: refused, the archived copy kept (archiving stops and pages).
    forked = segment(tmp_path, "000000010000000000000001", b"another history")
    assert subprocess.run([script, forked, forked.name], check=False).returncode != 0
    assert (archive / wal.name).read_bytes() == b"history"


def test_patroni_runs_the_archive_command_split_into_words_without_a_shell(cluster: ModuleType) -> None:
    # Patroni archives leftover segments before pg_rewind with shlex.split(archive_command): no shell syntax.
    command = str(cluster.DCS_PARAMETERS["archive_command"])
    assert not set("&|;$`'\"=") & set(command.replace("%p", "").replace("%f", ""))


def test_an_acknowledged_commit_waits_for_the_synchronous_standby(cluster: ModuleType) -> None:
    config: dict[str, Any] = json.loads(cluster.patroni_config("pg1", dict.fromkeys(
        ("postgres", "replicator", "owner", "app", "secret_key"), "x")))
    dcs = config["bootstrap"]["dcs"]
    assert dcs["synchronous_mode"] is True
    assert dcs["postgresql"]["parameters"]["synchronous_commit"] == "on"
    # Patroni's rule: a leader that cannot reach the DCS steps down before its key expires elsewhere.
    assert dcs["loop_wait"] + 2 * dcs["retry_timeout"] <= dcs["ttl"]
    assert dcs["postgresql"]["use_pg_rewind"] and dcs["postgresql"]["parameters"]["wal_log_hints"] == "on"
    ports = [int(p) for n in cluster.NODES.values() for p in n] + [cluster.DB_PORT, cluster.HTTP_PORT]
    assert all(18600 <= p <= 18699 for p in ports)  # never the shared PostgreSQL on 5432
