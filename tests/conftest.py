"""Test harness: every database test runs on SQLite and on PostgreSQL.

Each backend gets its own database per test worker, built by the Alembic
migrations. Each test runs inside a transaction that is rolled back
(``join_transaction_mode="create_savepoint"``). Tests that need real commits
on several connections (concurrency) ask for ``fresh_url`` instead.
"""

from __future__ import annotations

import atexit
import datetime as dt
import functools
import gc
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import types
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import anyio.from_thread
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from safeslot import migrate
from safeslot.app import create_app
from safeslot.cli import common as cli_common
from safeslot.config import Environment, Settings
from safeslot.db import build_engine, build_sessionmaker, normalize_url
from safeslot.identity import service as identity
from safeslot.kit import collector
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import demo as scheduling_demo
from safeslot.scheduling import service as scheduling
from tests import reuse
from tests.leanclient import LeanTransport
from tests.pg import Throwaway

if os.environ.get("SAFESLOT_TEST_REUSE", "1") != "0":  # 0: build every app from scratch (tests/reuse.py)
    reuse.install()  # FastAPI's route analysis and the parsed policies once per process, not per app

# The tests' own httpx clients (live servers, witnesses, load generators) speak plain HTTP on loopback, yet
# httpx builds a TLS context for each, loading the CA bundle that SSL_CERT_FILE names: about 20 ms of CPU a
# client here, some hundreds a run. OpenSSL's certificate folder (SSL_CERT_DIR, read lazily, by subject hash)
# trusts the same authorities for 0.1 ms a context; servers and commands the tests start inherit it.
_CERT_DIR = os.environ.get("SSL_CERT_DIR") or ssl.get_default_verify_paths().openssl_capath
if os.path.isdir(_CERT_DIR) and any(name.endswith(".0") for name in os.listdir(_CERT_DIR)):
    os.environ.pop("SSL_CERT_FILE", None)
    os.environ["SSL_CERT_DIR"] = _CERT_DIR

# `make test` runs every database test on both; `make test-fast` sets SQLite only.
# "postgres" is read as "postgresql" (the dialect's name, which backend-specific tests compare with).
BACKENDS = tuple({"postgres": "postgresql"}.get(b.strip(), b.strip())
                 for b in os.environ.get("SAFESLOT_TEST_BACKENDS", "sqlite,postgresql").split(",") if b.strip())
# A module's own tests (tests/test_layout.py) whose SQL is the same on both backends run on SQLite only:
# ``@ON_SQLITE`` on the test. The stories and the concurrency tests keep both.
ON_SQLITE = pytest.mark.parametrize("backend", [b for b in BACKENDS if b == "sqlite"] or list(BACKENDS[:1]),
                                    scope="session")
# Fixtures that make a test slow: a real browser, a database of its own, a live server.
SLOW_FIXTURES = frozenset({"browser", "fresh_url", "base_url", "live_server"})
# Whole files that are slow by nature: the schema fuzzer and the races.
SLOW_FILES = frozenset({"test_openapi_fuzz.py", "test_concurrency.py"})
# A Monday well ahead of any real date, so "the past" never catches up with the tests.
NOW = dt.datetime(2027, 3, 1, 14, 0, tzinfo=dt.UTC)

_throwaway = Throwaway()

# Hypothesis checks properties, not speed: on a shared, busy machine its timers (the per-example
# deadline, the "data generation too slow" health check) fail tests that are right. Examples and
# shrinking are unchanged; the other health checks stay on.
hypothesis_settings.register_profile(
    "safeslot", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True)
hypothesis_settings.load_profile("safeslot")


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str | None]:
    url = os.environ.get("SAFESLOT_TEST_POSTGRES_URL") or _throwaway.start()
    if url is not None:
        url = normalize_url(url)  # postgresql:// as libpq writes it means the installed psycopg 3
    if url is None and os.environ.get("CI") == "true":
        pytest.fail(f"CI=true requires PostgreSQL: {_throwaway.reason}")
    yield url
    _templates.drop()  # after every database made from them (their fixtures depend on this one)
    _throwaway.stop()


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


# app URL -> owner URL of every database the tests made (the same URL on SQLite)
OWNER_URLS: dict[str, str] = {}


def owner_url(url: str) -> str:
    """The schema owner's URL for a test database (migrations, and tests that tamper as an insider would)."""
    return OWNER_URLS.get(url, url)


class _NotReusable(Exception):
    pass


# What a test must not have changed for its database to be reused: everything but the rows.
_FINGERPRINT = """
SELECT md5(string_agg(x, E'\\n' ORDER BY x)) FROM (
  SELECT format('class %s %s %s %s %s', c.relname, c.relkind, c.relowner, c.relacl, c.relrowsecurity)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
  UNION ALL SELECT format('column %s.%s %s %s %s', c.relname, a.attname, a.atttypid, a.attnotnull, a.attisdropped)
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND a.attnum > 0
  UNION ALL SELECT format('default %s', pg_get_expr(adbin, adrelid)) FROM pg_attrdef
  UNION ALL SELECT format('constraint %s %s', conname, pg_get_constraintdef(oid)) FROM pg_constraint
    WHERE connamespace = 'public'::regnamespace
  UNION ALL SELECT format('index %s', pg_get_indexdef(indexrelid)) FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = 'public'::regnamespace
  UNION ALL SELECT format('trigger %s %s %s %s', tgrelid::regclass, tgname, tgenabled, tgfoid::regproc)
    FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL SELECT format('function %s %s %s %s', proname, md5(prosrc), proacl, proowner) FROM pg_proc
    WHERE pronamespace = 'public'::regnamespace
  UNION ALL SELECT format('view %s', pg_get_viewdef(c.oid)) FROM pg_class c
    WHERE c.relkind IN ('v', 'm') AND c.relnamespace = 'public'::regnamespace
  UNION ALL SELECT format('policy %s %s %s', polname, polrelid::regclass, pg_get_expr(polqual, polrelid))
    FROM pg_policy
  UNION ALL SELECT format('rule %s %s', rulename, definition) FROM pg_rules WHERE schemaname = 'public'
  UNION ALL SELECT format('schema %s %s %s', nspname, nspowner, nspacl) FROM pg_namespace
  UNION ALL SELECT format('extension %s %s', extname, extversion) FROM pg_extension
  UNION ALL SELECT format('setting %s %s', setrole, setconfig) FROM pg_db_role_setting
    WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
  UNION ALL SELECT format('database %s', datacl) FROM pg_database WHERE datname = current_database()
  UNION ALL SELECT format('version %s', version_num) FROM alembic_version
) AS f(x)
"""


class _Templates:
    """One migrated database per backend per test process, copied for every database a test asks for.

    Running the Alembic migrations is the slow part of a new database (every revision, every
    trigger); copying the result is not. SQLite copies the migrated file; PostgreSQL makes each
    database with ``CREATE DATABASE … TEMPLATE``, which copies the schema, its triggers and the app
    role's grants exactly as the migrations and ``migrate.grant_app_role`` left them. The copies share
    the process's owner and app roles (tests in one process run one after another). Names carry a
    random run id: several checkouts' suites share one PostgreSQL server.
    """

    def __init__(self) -> None:
        self.run = f"safeslot_t_{_worker()}_{uuid.uuid4().hex[:8]}"
        self.sqlite: Path | None = None
        self.pg: tuple[str, str, str, str] | None = None  # admin URL, owner role, app role, password
        self.pg_free: list[str] = []  # databases given back and reset to the template's state
        self.pg_seed: tuple[list[str], dict[str, bytes], dict[str, int | None]] | None = None
        self.pg_fingerprint: str | None = None
        self.dir: Path | None = None

    def sqlite_copy(self, path: Path) -> None:
        if self.sqlite is None:
            self.dir = Path(tempfile.mkdtemp(prefix=f"{self.run}-"))
            # removed when the process ends too: a run without PostgreSQL never reaches drop() (under
            # `make test` the folder is in memory, /dev/shm, where a leftover would hold RAM)
            atexit.register(shutil.rmtree, self.dir, True)
            template = self.dir / "template.db"
            engine = build_engine(f"sqlite:///{template}")
            migrate.upgrade(engine)
            engine.dispose()  # the last connection closing checkpoints the WAL into the file
            self.sqlite = template
        shutil.copyfile(self.sqlite, path)

    def pg_create(self, admin: Engine, admin_url: str, name: str) -> tuple[str, str, str]:
        """A new database ``name`` copied from this process's migrated template; (owner, app, password)."""
        if self.pg is None:
            owner, app = f"{self.run}_owner", f"{self.run}_app"
            password = uuid.uuid4().hex
            with admin.connect() as conn:
                for role in (owner, app):
                    conn.execute(text(f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}'"))
                    # A commit does not wait for the WAL to reach the disk (0.5 ms -> 0.08 ms here): the
                    # tests never crash the server, so nothing they check depends on it. Production
                    # keeps synchronous_commit = on (docs/operations.md; tests/test_deployment.py).
                    conn.execute(text(f'ALTER ROLE "{role}" SET synchronous_commit = off'))
                conn.execute(text(f'CREATE DATABASE "{self.run}" OWNER "{owner}"'))
            url = make_url(admin_url).set(database=self.run, username=owner, password=password)
            engine = build_engine(url.render_as_string(hide_password=False))
            migrate.upgrade(engine)
            migrate.grant_app_role(engine, app)
            engine.dispose()  # CREATE DATABASE … TEMPLATE needs the template without connections
            self.pg = (admin_url, owner, app, password)
        _, owner, app, password = self.pg
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.run}" OWNER "{owner}"'))
        return owner, app, password

    def pg_take(self, admin: Engine, admin_url: str) -> tuple[str, str, str, str]:
        """A database equal to the template: one given back and reset, else a new copy; (name, owner, app,
        password)."""
        if self.pg is not None and self.pg_free:
            name = self.pg_free.pop()
            with admin.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))
            _, owner, app, password = self.pg
            return name, owner, app, password
        name = f"{self.run}_{uuid.uuid4().hex[:10]}"
        made = self.pg_create(admin, admin_url, name)
        if self.pg_fingerprint is None:  # of a copy, untouched (a copy does not inherit the template's ACL)
            self.pg_fingerprint = self._fingerprint(admin_url, name)
        return (name, *made)

    @staticmethod
    def _fingerprint(admin_url: str, name: str) -> str:
        engine = create_engine(make_url(admin_url).set(database=name).render_as_string(hide_password=False),
                               poolclass=NullPool)
        with engine.connect() as conn:
            fingerprint = str(conn.execute(text(_FINGERPRINT)).scalar_one())
        engine.dispose()
        return fingerprint

    def pg_give_back(self, admin: Engine, admin_url: str, name: str) -> None:
        """Reset a test's database to the template's state and keep it for the next test, or drop it.

        Making a database (``CREATE DATABASE … TEMPLATE``) copies about 10 MB and cost 1-3 s of a
        loaded machine per test that needs one of its own; emptying the tables costs a tenth of that.
        Only data is reset: a test that changed the schema, its triggers, grants or settings (an insider's
        tampering, a downgrade) leaves a different fingerprint, and its database is dropped instead.
        """
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        engine = create_engine(url, poolclass=NullPool)
        try:
            with engine.connect() as conn:
                # No one else may connect while it is reset and waits (a test's server thread may linger);
                # this connection, already open, stays.
                with admin.connect() as admin_conn:
                    admin_conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
                conn.commit()
                if (conn.execute(text(_FINGERPRINT)).scalar_one() != self.pg_fingerprint
                        or conn.execute(text("SELECT count(*) FROM pg_prepared_xacts "
                                             "WHERE database = current_database()")).scalar_one()):
                    raise _NotReusable
                tables, seeds, sequences = self._pg_seed(admin_url)
                conn.execute(text("SET LOCAL session_replication_role = replica"))  # the no-truncate triggers
                conn.execute(text("SET LOCAL synchronous_commit = off"))
                for table in tables:  # DELETE, not TRUNCATE: a few rows each, and no new files to sync
                    conn.execute(text(f"DELETE FROM {table}"))
                raw = conn.connection.dbapi_connection
                cursor = raw.cursor()  # type: ignore[union-attr]
                for table, data in seeds.items():
                    with cursor.copy(f"COPY {table} FROM STDIN") as copy:
                        copy.write(data)
                for sequence, value in sequences.items():
                    conn.execute(text(f"ALTER SEQUENCE {sequence} RESTART") if value is None else
                                 text("SELECT setval(:s, :v, true)").bindparams(s=sequence, v=value))
                conn.commit()
        except Exception:  # _NotReusable, or the test left it in a state we cannot reset: dropped at the end
            engine.dispose()  # (it takes no connections meanwhile; see ``drop``)
            return
        engine.dispose()
        self.pg_free.append(name)

    def _pg_seed(self, admin_url: str) -> tuple[list[str], dict[str, bytes], dict[str, int | None]]:
        """The template's tables, the rows the migrations put in them, and its sequences."""
        if self.pg_seed is None:
            url = make_url(admin_url).set(database=self.run).render_as_string(hide_password=False)
            engine = create_engine(url, poolclass=NullPool)
            with engine.connect() as conn:
                names = conn.execute(text("SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' "
                                          "AND tablename <> 'alembic_version' ORDER BY 1")).scalars().all()
                cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
                seeds: dict[str, bytes] = {}
                for table in names:
                    with cursor.copy(f"COPY {table} TO STDOUT") as copy:
                        data = b"".join(bytes(chunk) for chunk in copy)
                    if data:
                        seeds[table] = data
                sequences = {str(k): v for k, v in conn.execute(text(
                    "SELECT quote_ident(sequencename), last_value FROM pg_sequences WHERE schemaname = 'public'"))}
            engine.dispose()
            self.pg_seed = (list(names), seeds, sequences)
        return self.pg_seed

    def drop(self) -> None:
        """Every database of the run and its two roles, dropped by a process of their own after the tests.

        PostgreSQL 15 runs an immediate checkpoint for each ``DROP DATABASE`` and waits for it (every
        dirty page of every test database written and synced: 0.05-0.3 s on a quiet machine, seconds on
        a busy one); a worker dropping its dozen databases at the end kept the whole run waiting for it.
        A detached process drops them once the tests are done, in order, databases before the roles
        that own them; so does a database a test left unusable (``pg_give_back``).
        """
        if self.pg is not None:
            admin_url, owner, app, _ = self.pg
            drop_later(admin_url, f"{self.run}%", (app, owner))
            self.pg = None
            self.pg_free.clear()
            self.pg_seed = self.pg_fingerprint = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = self.sqlite = None


_templates = _Templates()

# Drops the databases whose names match argv[2] (a LIKE pattern), then the roles argv[3:]; from argv[1], a
# libpq URL. Plain psycopg: it starts in a tenth of a second.
_DROPPER = """
import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    for (name,) in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (sys.argv[2],)).fetchall():
        conn.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name.replace('"', '""'))
    for role in sys.argv[3:]:
        conn.execute('DROP ROLE IF EXISTS "%s"' % role.replace('"', '""'))
"""


def drop_later(admin_url: str, pattern: str, roles: tuple[str, ...] = ()) -> None:
    """Drop the databases named like ``pattern`` (and then ``roles``) in a detached process, without waiting.

    The process outlives the test run by a few seconds; it holds none of the run's pipes, so `make test`
    and CI end when the tests do. See ``_Templates.drop`` for why.
    """
    libpq = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    # The shell starts the dropper in the background and returns at once (a few ms): no child left to reap.
    subprocess.run(["sh", "-c", '"$@" </dev/null >/dev/null 2>&1 &', "sh", sys.executable, "-c", _DROPPER, libpq,
                    pattern, *roles], check=True, start_new_session=True)


def new_database(backend: str, admin_url: str | None, tmp: Path) -> tuple[str, Callable[..., None]]:
    """A new, migrated database; returns the app's URL and a function that drops it.

    On PostgreSQL, as in production (docs/database-roles.md): an owner role ran the
    migrations and granted an app role only what the app needs; the app's URL logs in
    as the app role. `owner_url(url)` gives the owner's. Both are copies of a template
    migrated once per test process (``_Templates``).
    """
    name = f"{_templates.run}_{uuid.uuid4().hex[:10]}"
    if backend == "sqlite":
        path = tmp / f"{name}.db"
        url = owner = f"sqlite:///{path}"
        _templates.sqlite_copy(path)

        def drop(reset: bool = True) -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        if admin_url is None:
            pytest.skip(_throwaway.reason or "no PostgreSQL")
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        name, owner_role, app_role, password = _templates.pg_take(admin, admin_url)
        base = make_url(admin_url).set(database=name, password=password)
        owner = base.set(username=owner_role).render_as_string(hide_password=False)
        url = base.set(username=app_role).render_as_string(hide_password=False)

        def drop(reset: bool = True) -> None:  # reset=False: the run's end, which drops it (_Templates.drop)
            if reset:
                _templates.pg_give_back(admin, admin_url, name)
            admin.dispose()

    OWNER_URLS[url] = owner
    return url, drop


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class _Database:
    """One test database of a process: its app URL and the app's and the owner's engines."""

    def __init__(self, url: str, drop: Callable[..., None]) -> None:
        self.url, self.drop = url, drop
        self.engine = build_engine(url)
        self.owner_engine = build_engine(owner_url(url))

    def close(self, *, end_of_run: bool = False) -> None:
        self.engine.dispose()
        self.owner_engine.dispose()
        self.drop(reset=not end_of_run)  # at the run's end PostgreSQL's are dropped, not reset first


@pytest.fixture(scope="session")
def made_databases(pg_admin_url: str | None) -> Iterator[dict[str, dict[int | None, _Database]]]:
    """Every backend's shared databases (``databases``), kept until the end of the run.

    Not torn down when the ``backend`` parameter changes: pytest-xdist may hand a worker a SQLite test
    after a PostgreSQL one (a group of both, as the fuzz's shards are), and each switch would otherwise
    drop and rebuild the other backend's databases and demo offices.
    """
    made: dict[str, dict[int | None, _Database]] = {}
    yield made
    for per_backend in made.values():
        for db in per_backend.values():
            db.close(end_of_run=True)


@pytest.fixture(scope="session")
def databases(
    backend: str, pg_admin_url: str | None, tmp_path_factory: pytest.TempPathFactory,
    made_databases: dict[str, dict[int | None, _Database]],
) -> Callable[[int | None], _Database]:
    """The process's databases on one backend, made on first use: the empty one (``None``), and for
    each ``office_weeks`` one holding the demo office with that many weeks of starts, committed.

    A test that asks for ``office`` runs on the second kind, so the demo office is loaded once per
    process instead of once per test (about a second each); the test's own writes are still rolled
    back, so every test starts from the same office.
    """
    made = made_databases.setdefault(backend, {})
    tmp = tmp_path_factory.mktemp(backend)

    def get(weeks: int | None) -> _Database:
        if weeks not in made:
            db = _Database(*new_database(backend, pg_admin_url, tmp))
            if weeks is not None:
                with build_sessionmaker(db.owner_engine)() as s, s.begin():
                    scheduling_demo.load(s, NOW.date(), weeks=weeks)
            made[weeks] = db
        return made[weeks]

    return get


@pytest.fixture
def database(request: pytest.FixtureRequest, databases: Callable[[int | None], _Database]) -> _Database:
    """This test's database: with the demo office when the test uses ``office`` (see ``databases``)."""
    uses_office = "office" in getattr(request.node, "fixturenames", ())
    return databases(request.getfixturevalue("office_weeks") if uses_office else None)


@pytest.fixture
def db_url(database: _Database) -> str:
    return database.url


@pytest.fixture
def engine(database: _Database) -> Engine:
    return database.engine


@contextmanager
def _rolled_back(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back at the end, whatever the test did."""
    conn = engine.connect()
    trans = conn.begin()
    try:
        yield conn
    finally:
        trans.rollback()
        conn.close()


@pytest.fixture
def connection(request: pytest.FixtureRequest, engine: Engine) -> Iterator[Connection]:
    """The test's connection, in a transaction rolled back at the end: the app's role, or with
    ``@pytest.mark.as_owner`` the schema owner's (for tests that tamper as an insider would)."""
    if request.node.get_closest_marker("as_owner") is not None:
        engine = request.getfixturevalue("owner_engine")
    with _rolled_back(engine) as conn:
        yield conn


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    with build_sessionmaker(connection)() as s:
        yield s


@pytest.fixture
def owner_engine(database: _Database) -> Engine:
    """The schema owner's engine for the test's database (an insider with the owner's rights)."""
    return database.owner_engine


@pytest.fixture
def owner_connection(owner_engine: Engine) -> Iterator[Connection]:
    with _rolled_back(owner_engine) as conn:
        yield conn


@pytest.fixture
def owner_session(owner_connection: Connection) -> Iterator[Session]:
    with build_sessionmaker(owner_connection)() as s:
        yield s


def people_left_unsound(url: str) -> list[str]:
    """The people invariant (tests/scheduling/invariants.py) over everything committed to a test's database:
    nobody in two overlapping visits, every visit holding exactly its people. Read as the schema owner."""
    from tests.scheduling.invariants import people_violations

    engine = create_engine(owner_url(url), poolclass=NullPool)
    try:
        with build_sessionmaker(engine)() as s:
            return people_violations(s)
    finally:
        engine.dispose()


@pytest.fixture
def fresh_url(request: pytest.FixtureRequest, backend: str, pg_admin_url: str | None,
              tmp_path: Path) -> Iterator[str]:
    """A database of its own, for tests that commit on several connections. Whatever they committed must
    leave the people invariant whole (``people_left_unsound``) unless the test says it breaks it on purpose
    (``@pytest.mark.breaks_people_invariant``): races, faults and live servers are where a lost hold or a
    doubled visit would show, so every one of their databases is checked, not only the ones a test asks about."""
    url, drop = new_database(backend, pg_admin_url, tmp_path)
    yield url
    try:
        if request.node.get_closest_marker("breaks_people_invariant") is None:
            found = people_left_unsound(url)
            assert found == [], f"the test left the people invariant broken: {found[:3]}"
    finally:
        drop()


@contextmanager
def cli_configured(monkeypatch: pytest.MonkeyPatch, env: Mapping[str, str | None]) -> Iterator[None]:
    """Point the ``safeslot`` command line at these settings (None unsets a variable) for one test.

    The CLI caches its settings and its engine (``cli/common.py``): both are cleared before and
    after, and the engine the commands opened is disposed, so no test sees another's database.
    """
    for name, value in env.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    cli_common.settings.cache_clear()
    cli_common.engine.cache_clear()
    try:
        yield
    finally:
        cli_common.engine().dispose()
        cli_common.settings.cache_clear()
        cli_common.engine.cache_clear()


@pytest.fixture
def cli_url(fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh database the command line writes to, with a field-key file of its own (test mode)."""
    env = {"SAFESLOT_DATABASE__URL": fresh_url, "SAFESLOT_CRYPTO__KEY_FILE": str(tmp_path / "keys.json"),
           "SAFESLOT_ENVIRONMENT": "test"}
    with cli_configured(monkeypatch, env):
        yield fresh_url


# Debian's Chromium headless shell (package chromium-headless-shell: the same Blink and V8 as chromium, without
# the desktop browser around them; what Playwright itself runs headless tests on). The browser tests took 84
# core-seconds on it against 112 on the full browser (docs/decisions.md, "The browser tests on Chromium's
# headless shell"). Launched the one way the browser tests use: no background networking, since this
# machine's network is closed.
CHROMIUM = "/usr/bin/chromium-headless-shell"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Chromium for a module's browser tests; missing Chromium skips locally and fails under CI=true.

    Module scope on purpose: Playwright's sync API keeps an asyncio loop running
    in this thread while it is open, and other tests call asyncio.run().
    """
    if not os.path.exists(CHROMIUM):
        reason = f"{CHROMIUM} is missing: run scripts/test-deps (apt-get install -y chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true requires the browser tests to run: {reason}")
        print(f"skipping browser tests: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# Cheap argon2id parameters for tests; production keeps the RFC 9106 defaults (identity/service.py).
TEST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(identity, "HASHER", TEST_HASHER)


@pytest.fixture(scope="session")
def keyring() -> KeyRing:
    return KeyRing.generate()


# The suite books, looks up and signs in many times from TestClient's one address: the
# fixtures' settings raise every rate limit out of reach (the limiter still runs on every
# request). tests/kit/test_ratelimit.py builds apps with the shipped defaults.
LENIENT_LIMITS = dict.fromkeys(
    (
        "per_address", "per_credential", "booking_per_address", "booking_per_office", "lookup_per_address",
        "sign_in_failures_per_account_address", "sign_in_failures_per_address", "sign_in_failures_per_account",
    ),
    "1000000/minute",
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        environment=Environment.test,
        crypto={"key_file": tmp_path / "keys.json"},
        log={"signing_key_file": tmp_path / "log.key"},
        rate_limits=LENIENT_LIMITS,
    )


@pytest.fixture
def clock() -> Callable[[], dt.datetime]:
    return lambda: NOW


class KeptLoopClient(TestClient):
    """Starlette's TestClient, sending every request of the test through one event-loop thread.

    Outside ``with client:`` (which would also run the app's lifespan) Starlette starts a new thread and
    event loop for each request and another for reading its body: about 2.5 ms of CPU a request, a
    third of the cost of a refused one. A served app has one loop for all its requests, as here. Each
    request is handed to that loop once, not in nine steps (tests/leanclient.py).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if os.environ.get("SAFESLOT_TEST_LEAN_CLIENT", "1") != "0":  # 0: Starlette's transport (tests/leanclient.py)
            self._transport.__class__ = LeanTransport
        self._kept: ExitStack | None = None
        self._kept_portal: anyio.from_thread.BlockingPortal | None = None

    @contextmanager
    def _portal_factory(self) -> Iterator[anyio.from_thread.BlockingPortal]:
        if self.portal is not None:  # inside ``with client:``, Starlette's own
            yield self.portal
            return
        if self._kept_portal is None:
            self._kept = ExitStack()
            self._kept_portal = self._kept.enter_context(anyio.from_thread.start_blocking_portal(**self.async_backend))
        yield self._kept_portal

    def close_loop(self) -> None:
        if self._kept is not None:
            self._kept.close()
            self._kept = self._kept_portal = None


@pytest.fixture
def app_factory(
    engine: Engine, connection: Connection, settings: Settings, keyring: KeyRing, clock: Callable[[], dt.datetime]
) -> Iterator[Callable[..., TestClient]]:
    clients: list[KeptLoopClient] = []

    def make(**overrides: object) -> TestClient:
        app = create_app(
            overrides.pop("settings", settings),  # type: ignore[arg-type]
            engine=engine, bind=connection, clock=overrides.pop("clock", clock),  # type: ignore[arg-type]
            keyring=keyring,
        )
        clients.append(KeptLoopClient(app, raise_server_exceptions=False))
        return clients[-1]

    yield make
    for client in clients:
        client.close_loop()


@pytest.fixture
def client(app_factory: Callable[..., TestClient]) -> TestClient:
    return app_factory()


@pytest.fixture
def office_weeks() -> int:
    """Weeks of bookable starts the demo office gets from NOW; a folder or file overrides it when it needs
    more (reminders across the March clock change) or fewer (cheaper set-up)."""
    return 2


def office_database(url: str, first_day: dt.date, *, weeks: int = 1, pool_size: int = 10) -> Engine:
    """An engine on a database of the test's own (``fresh_url``, a CLI's database) with the demo office
    committed, ``weeks`` weeks of starts from ``first_day``: for tests whose writers commit on connections of
    their own (races, the CLI, live servers). Inside the test's transaction, the ``office`` fixture is it."""
    engine = build_engine(url, pool_size=pool_size)
    with Session(engine) as s, s.begin():
        scheduling_demo.load(s, first_day, weeks=weeks)
    return engine


@pytest.fixture
def office(session: Session, office_weeks: int) -> str:
    """The demo office ("central": services, staff, hours) with ``office_weeks`` weeks of starts from NOW.
    The one copy every folder uses: already committed in the test's database (``databases``)."""
    assert scheduling.get_office(session, scheduling_demo.OFFICE).slug == scheduling_demo.OFFICE
    return scheduling_demo.OFFICE


# A test that starts a server itself (tests/live.py's serve, tests/scheduling/live.py's LiveServer, a stand-in
# SMTP server or provider on loopback) or races threads, it or a fixture it uses: the names its code (and the
# functions and comprehensions inside it) uses, read from the compiled code instead of the source text
# (reading 1,900 functions' source cost each worker a second).
_SERVES = frozenset({"serve", "LiveServer", "ThreadingHTTPServer", "Controller", "Thread", "ThreadPoolExecutor",
                     "Barrier"})


@functools.cache
def _code_starts_a_server(code: types.CodeType) -> bool:
    return not _SERVES.isdisjoint(code.co_names) or any(
        _code_starts_a_server(inner) for inner in code.co_consts if isinstance(inner, types.CodeType))


def _starts_a_server(item: pytest.Item) -> bool:
    functions = [getattr(item, "function", None)]
    info = getattr(item, "_fixtureinfo", None)
    if info is not None:  # and the fixtures it uses (a file's `smtp`)
        functions += [d.func for defs in info.name2fixturedefs.values() for d in defs]
    return any(isinstance(code := getattr(f, "__code__", None), types.CodeType) and _code_starts_a_server(code)
               for f in functions)


def pytest_configure(config: pytest.Config) -> None:
    """One garbage collection, not five, when a test process ends. pytest collects five times then to
    surface exceptions raised in finalizers late; each pass over a worker's 1-2 million objects costs
    about 0.6 s, and the three workers pay it at once at the very end (3 s of 42 for the console and
    identity files). Exceptions in finalizers are still reported per test, and the one pass still frees
    every unreachable cycle (docs/decisions.md, "One collection at the end")."""
    try:
        from _pytest.unraisableexception import gc_collect_iterations_key
    except ImportError:  # a pytest without this setting collects as it likes
        return
    config.stash[gc_collect_iterations_key] = 1


def pytest_collection_finish(session: pytest.Session) -> None:
    """What importing and collecting made (modules, classes, 2,000 test items) lives as long as the process:
    it is moved out of the garbage collector's sight once, so that each full collection during the run walks
    only what the tests themselves keep (docs/decisions.md, "The collector walks what the tests made")."""
    collector.settle()  # and the server's thresholds for the young generations


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """After a module's last test (its module fixtures torn down): what survived it is kept by the process
    (the apps, documents and policies kept per process, engines): collected once, then frozen too."""
    yield
    if nextitem is None or nextitem.module is not getattr(item, "module", None):
        gc.collect()
        gc.freeze()


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups (--dist loadgroup)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`slow` on every test that drives a browser, owns a database or serves over a socket.

    Applied here from the fixtures a test uses (and the servers it starts), so a new browser or
    concurrency test is marked without anyone remembering to; `make test-fast` leaves them out.
    A module's browser tests share one Chromium and one served app (module-scoped fixtures), so
    under ``--dist loadgroup`` they run on one worker instead of starting both on each.
    """
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if (fixtures & SLOW_FIXTURES or item.path.name in SLOW_FILES or item.get_closest_marker("browser")
                or _starts_a_server(item)):
            item.add_marker(pytest.mark.slow)
        if "browser" in fixtures:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
