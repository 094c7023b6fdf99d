"""The reference deployment's own rules (scripts/cluster): WAL archiving that survives a failover, and the
Patroni settings that make an acknowledged write durable on two machines. The deployment itself is exercised
by `make failover-drill` and `make restore-drill` (slow, need root and Debian's packages; docs/operations.md)."""

from __future__ import annotations

import ast
import json
import re
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.scripts import load_file

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "cluster"


@pytest.fixture(scope="module")
def cluster() -> ModuleType:
    return load_file(SCRIPT, "safeslot_cluster_script")


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


def _ports(module: ModuleType) -> set[int]:
    """Every port a script names in its constants and node table (and those of the cluster script it reads)."""
    names = ("ETCD_CLIENT", "ETCD_PEER", "DB_PORT", "HTTP_PORT", "STATS_PORT", "HTTPS_PORT", "APP_PORT0",
             "RESTORE_PORT", "PORT")
    found = {int(getattr(module, n)) for n in names if isinstance(getattr(module, n, None), int)}
    for n in ("NODES",):
        found |= {int(p) for pair in getattr(module, n, {}).values() for p in pair}
    ports = getattr(module, "PORTS", None)
    if ports is not None:
        found |= _ports(ports)
    return found


def _fixed_ports(path: Path) -> list[str]:
    """Port numbers of the default hundred written as numbers or inside strings, outside docstrings."""
    tree = ast.parse(path.read_text())
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef)) and n.body
                  and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    default = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Assign)
               and [getattr(t, "id", None) for t in n.targets] == ["DEFAULT_PORT_BASE"]}  # the one default
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or id(node) in docstrings | default:
            continue
        if isinstance(node.value, int) and 18600 <= node.value <= 18699:
            found.append(f"line {node.lineno}: {node.value}")
        elif isinstance(node.value, str) and re.search(r"(^|:)186[0-9]{2}\b", node.value):
            found.append(f"line {node.lineno}: {node.value!r}")
    return found


@pytest.mark.parametrize("script", ["cluster", "failover-drill", "restore-drill"])
def test_a_second_cluster_on_the_machine_takes_another_hundred_ports(
    script: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two people (worktrees) drilling on one machine: SAFESLOT_CLUSTER_PORT_BASE moves every port the
    cluster, the failover drill and the restore drill use, and nothing stays on the default hundred."""
    path = SCRIPT.parent / script
    monkeypatch.setenv("SAFESLOT_CLUSTER_PORT_BASE", "18200")
    module = load_file(path, f"safeslot_{script.replace('-', '_')}_18200")
    ports = _ports(module) | {int(p) for p in re.findall(r"\b18[0-9]{3}\b", str(getattr(module, "FRONT", "")))}
    assert ports and all(18200 <= p <= 18299 for p in ports), sorted(ports)
    # and no port of the default hundred is written into the code itself (docstrings may name them)
    assert not _fixed_ports(path), _fixed_ports(path)
    monkeypatch.setenv("SAFESLOT_CLUSTER_PORT_BASE", "5400")  # never near the shared PostgreSQL's 5432
    with pytest.raises(SystemExit):
        load_file(SCRIPT, "safeslot_cluster_bad_base")


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


@pytest.fixture(scope="module")
def drill() -> ModuleType:
    return load_file(SCRIPT.parent / "failover-drill", "safeslot_failover_drill_script")


STEPS = ["filed", "accepted", "attested:privacy_officer", "attested:counsel", "approved:privacy_officer",
         "approved:counsel"]
# What a request taken through every step to its release writes (tests/disclosure/test_story.py).
WRITTEN = [("disclosure.decision", None, None), ("disclosure.review", "accept", "counsel"),
           ("disclosure.review", "attest", "privacy_officer"), ("disclosure.review", "attest", "counsel"),
           ("disclosure.review", "approve", "privacy_officer"), ("disclosure.review", "approve", "counsel"),
           ("disclosure.release", None, None), ("disclosure.accounting", None, None)]


def test_the_drill_finds_each_acknowledged_disclosure_step_in_the_log(drill: ModuleType) -> None:
    logged = [(7, *entry) for entry in WRITTEN]
    assert drill.unlogged_steps({7: STEPS}, {7}, logged) == {}
    # One attestation's entry lost: the request still has more entries than acknowledged steps (the release
    # wrote two), which the drill's earlier count (entries >= steps) let through; step by step it is found.
    lost = [e for e in logged if e[2:] != ("attest", "privacy_officer")]
    assert len(lost) >= len(STEPS)
    assert drill.unlogged_steps({7: STEPS}, {7}, lost) == {7: ["attested:privacy_officer"]}
    # An acknowledged release without its release entry; another request's entries never count.
    assert drill.unlogged_steps({7: STEPS}, {7}, [e for e in logged if e[1] != "disclosure.release"]) == {
        7: ["released"]}
    assert drill.unlogged_steps({8: STEPS[:2]}, set(), logged) == {8: ["filed", "accepted"]}
    # A step that was not acknowledged (the load stopped, or it was answered 409 after a 503) is not required.
    assert drill.unlogged_steps({7: STEPS[:3]}, set(), logged[:3]) == {}


def test_a_step_whose_commit_landed_before_a_503_is_not_counted_and_not_a_failure(drill: ModuleType) -> None:
    """A step answered 503 whose COMMIT had landed is refused on its retry: 409 (the state moved on), or for an
    approval 403 (the same person's second approval). The drill carries on without counting it; any other
    refusal, or one without a retry before it, is a failure."""
    import httpx

    class Stub:
        def __init__(self, answer: httpx.Response, retried: bool) -> None:
            self.answer, self.retried, self.seen = answer, retried, type("Seen", (), {"bad": []})()

        def call(self, *args: object, **kw: object) -> httpx.Response:
            return self.answer

    twice = httpx.Response(403, json={"type": "/problems/disclosure-reviewer-not-allowed",
                                      "detail": "You already approved this request; the second approval must "
                                                "come from someone else."})
    other = httpx.Response(403, json={"type": "/problems/disclosure-reviewer-not-allowed",
                                      "detail": "Your counsel role is not yet approved by a second person."})
    cases = [("approved:privacy_officer", twice, True, True), ("approved:privacy_officer", twice, False, False),
             ("approved:privacy_officer", other, True, False), ("attested:counsel", twice, True, False),
             ("accepted", httpx.Response(409, json={}), True, True)]
    for name, answer, retried, carries_on in cases:
        ledger, client = drill.Ledger(), Stub(answer, retried)
        assert drill.step(client, ledger, 7, name, "POST", "/x", {}) is carries_on, (name, answer.status_code)
        assert ledger.steps[7] == []  # never acknowledged, never counted
        assert (client.seen.bad == []) is carries_on


def test_the_archive_command_the_guide_shows_runs_without_a_shell_too() -> None:
    """docs/operations.md's production archive_command follows the rule above: Patroni also runs it split
    into words, with no shell, so `test ! -f … && cp …` would hand `&&` to `test` as an argument."""
    guide = (SCRIPT.parents[1] / "docs" / "operations.md").read_text()
    shown = re.findall(r"archive_command\s*=\s*'([^']*)'", guide)
    assert shown, "the guide shows no archive_command"
    for command in shown:
        words = command.replace("%p", "").replace("%f", "")
        assert not set("&|;$`'\"<>") & set(words), command
        assert "=" not in command.split()[0], command  # no VAR=value before the program: that is a shell's
