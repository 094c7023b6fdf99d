"""Finding a PostgreSQL server for the tests (what depends on the database is tested on both engines).

1. ``SAFESLOT_TEST_POSTGRES_URL`` when set (``.ci/run`` sets it);
2. otherwise a throwaway cluster from ``initdb``/``pg_ctl`` (``pg_config --bindir``),
   run as the ``postgres`` user when we are root;
3. otherwise None: the PostgreSQL tests skip with the reason printed, except
   under ``CI=true``, where a missing PostgreSQL fails the run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


class Throwaway:
    def __init__(self) -> None:
        self.dir: Path | None = None
        self.bindir: Path | None = None
        self.reason = ""

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def start(self) -> str | None:
        try:
            bindir = subprocess.run(["pg_config", "--bindir"], check=True, capture_output=True, text=True).stdout
            self.bindir = Path(bindir.strip())
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            self.dir = Path(tempfile.mkdtemp(prefix="safeslot-pg-"))
            data, log = self.dir / "data", self.dir / "log"
            if os.geteuid() == 0:
                shutil.chown(self.dir, "postgres", "postgres")
            self._run(str(self.bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
            self._run(
                str(self.bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w",
                "-o", f"-p {port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off", "start",
            )
            return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        except (OSError, subprocess.SubprocessError, KeyError, LookupError) as exc:
            self.reason = f"no PostgreSQL: set SAFESLOT_TEST_POSTGRES_URL ({type(exc).__name__}: {exc})"
            return None

    def stop(self) -> None:
        if self.dir and self.bindir:
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                self._run(str(self.bindir / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate", "stop")
            shutil.rmtree(self.dir, ignore_errors=True)
