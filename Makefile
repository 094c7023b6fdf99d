# Two commands: `make run` and `make test`. Both build .venv from scratch when needed.
PYTHON ?= python3
# The interpreter the environment is built on: the distribution's own build of PYTHON's minor version when the
# machine has one (Debian's is built with profile-guided and link-time optimisation and a static libpython; the
# suite's pure-Python half took 13% less CPU on it than on pyenv's shared, unoptimised build), else PYTHON.
# docs/decisions.md, "The environment's interpreter: the distribution's optimised build".
VENV_PYTHON ?= $(shell v=$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null); \
  p=/usr/bin/python$$v; if [ -n "$$v" ] && [ -x $$p ] && $$p -c 'import venv, sqlite3, ssl, ctypes' 2>/dev/null; \
  then echo $$p; else echo $(PYTHON); fi)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: print-venv-python run test test-fast screenshots install lint typecheck bench fuzz clean cluster-up cluster-down failover-drill restore-drill

$(STAMP): pyproject.toml
	@# uv, given pip's own configuration, or pip where that cannot be (docs/decisions.md, "Installing with uv,
	@# configured as pip is"); SAFESLOT_INSTALL_WITH=pip forces pip. npm fetches the stylesheet's sources meanwhile.
	@scripts/build-assets --fetch & fetch=$$!; \
	  echo "$(PYTHON) scripts/install-venv $(VENV) $(PYTHON) $(VENV_PYTHON)"; $(PYTHON) scripts/install-venv $(VENV) $(PYTHON) $(VENV_PYTHON); rc=$$?; \
	  wait $$fetch; exit $$rc
	@# Neither installer byte-compiles (pip would, one file at a time); compileall writes the same .pyc files on every
	@# core (docs/decisions.md, "Installing: the byte-compile on every core"). Files that are not Python 3 (some
	@# packages ship templates) are skipped, as pip skips them. The installers and the type checker (pip, setuptools,
	@# mypy, mypyc: a fifth of the files) are left out: no test or server imports them, and `make lint` writes their
	@# .pyc files the first time it runs (docs/decisions.md, "Installing: the byte-compile on every core").
	@$(BIN)/python -m compileall -q -j 0 -x '/site-packages/(pip|setuptools|pkg_resources|_distutils_hack|mypy|mypyc)/' \
	  "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" >/dev/null || true
	touch $(STAMP)

install: $(STAMP)
	@if [ -x scripts/build-assets ]; then scripts/build-assets; fi

print-venv-python:  # the interpreter `make install` builds the environment on
	@echo $(VENV_PYTHON)

run: install
	BIN=$(BIN) scripts/run  # migrate, start the local witness (scripts/witness) and the outbox worker, load the demo, serve

# Each test worker imports and collects everything (about 11 s of CPU from source, 5 s from bytecode):
# the sources are compiled once up front, and pytest may keep its rewritten test modules
# (PYTHONDONTWRITEBYTECODE emptied) for the next run. docs/performance.md, "Test suite". On a fresh clone each
# worker would also rewrite every test module's asserts itself (5 s of CPU each): scripts/rewrite-tests does
# it once on every core first (docs/decisions.md, "The test modules rewritten once").
# The tests' temporary files (pytest's tmp_path: SQLite databases, keys, Chromium's profiles) in memory when the
# machine has a tmpfs with room (4 GB free), else where TMPDIR says: SQLite's and Chromium's writes then cost no
# disk I/O (docs/decisions.md, "The tests' files in memory").
TEST_TMPDIR ?= $(shell d=/dev/shm; free=$$(df -Pk $$d 2>/dev/null | awk 'NR==2 {print $$4}'); \
  if [ -d $$d ] && [ -w $$d ] && [ "$${free:-0}" -gt 4194304 ]; then echo $$d; else echo $${TMPDIR:-/tmp}; fi)
PYTEST := TMPDIR=$(TEST_TMPDIR) PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -q -p no:cacheprovider --dist loadgroup

# One worker more than cores: the browser stories, live servers and spawned commands leave a core idle
# while they wait, and a third worker fills it (2 cores: 2:22 with 3 workers, 2:34 with 2, 2:40 with 4;
# docs/decisions.md, "Workers: one more than cores"). test-fast waits on nothing: a worker per core.
WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))

test: install
	@if [ -x scripts/test-deps ]; then scripts/test-deps; fi
	@$(BIN)/python -m compileall -q -j 0 src tests >/dev/null
	@PYTHONDONTWRITEBYTECODE= $(BIN)/python scripts/rewrite-tests
	$(PYTEST) -n $(WORKERS)

# The pure cores and the SQLite half, without browsers, live servers or concurrency: for the edit loop.
test-fast: install
	@$(BIN)/python -m compileall -q -j 0 src tests >/dev/null
	@PYTHONDONTWRITEBYTECODE= $(BIN)/python scripts/rewrite-tests
	SAFESLOT_TEST_BACKENDS=sqlite $(PYTEST) -n auto -m "not slow"

# The browser stories with a full-page screenshot of each step (test-artifacts/screenshots/) and the review
# page's images in docs/images/ (docs/disclosure-gate.md); `make test` takes none (tests/browsing.py).
screenshots: install
	@if [ -x scripts/test-deps ]; then scripts/test-deps; fi
	SAFESLOT_TEST_SCREENSHOTS=1 $(PYTEST) -n 0 -m browser

# ruff's TID251 refuses another domain's models and repository (each folder's ruff.toml); what ruff cannot
# say, the import graph's checks do from the source: a private name taken from another domain, the kernel
# importing upward, a loop of imports between domains of any length (tests/test_import_graph.py: no database, ~2 s).
lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/pytest -q -n 0 -p no:cacheprovider tests/test_import_graph.py

typecheck: install
	$(BIN)/mypy src

# Long: >= 20,000 schemathesis cases over every operation with every credential (bench/fuzz.py).
fuzz: install
	nice -n 10 $(BIN)/python bench/fuzz.py --cases 28000

# The reference deployment on loopback (etcd, Patroni with two PostgreSQL, HAProxy, two app servers, the
# worker; ports 18600-18699 or SAFESLOT_CLUSTER_PORT_BASE=18N00, files under var/cluster): docs/operations.md.
# Needs root (PostgreSQL runs as the postgres OS user) and Debian's patroni, etcd-server, haproxy and
# postgresql-15 packages.
cluster-up: install
	scripts/cluster up

cluster-down:
	scripts/cluster down

# Slow and opt-in (about 10 minutes; not part of `make test`): three runs in a row of load through HAProxy,
# the PostgreSQL primary killed with SIGKILL, and the checks that nothing acknowledged was lost.
failover-drill: install
	scripts/failover-drill --runs 3

# A base backup and the WAL archive restored on a new instance, ending with `safeslot log self-check`.
restore-drill: install
	scripts/restore-drill

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
