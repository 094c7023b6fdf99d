# Two commands: `make run` and `make test`. Both build .venv from scratch when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast install lint typecheck bench fuzz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)
	@if [ -x scripts/build-assets ]; then scripts/build-assets; fi

run: install
	BIN=$(BIN) scripts/run  # migrate, start the local witness (scripts/witness) and the outbox worker, load the demo, serve

test: install
	@if [ -x scripts/test-deps ]; then scripts/test-deps; fi
	$(BIN)/pytest -q -p no:cacheprovider -n auto

# The pure cores and the SQLite half, without browsers, live servers or concurrency: for the edit loop.
test-fast: install
	SAFESLOT_TEST_BACKENDS=sqlite $(BIN)/pytest -q -p no:cacheprovider -n auto -m "not slow"

lint: install
	$(BIN)/ruff check src tests bench

typecheck: install
	$(BIN)/mypy src

# Long: >= 20,000 schemathesis cases over every operation with every credential (bench/fuzz.py).
fuzz: install
	nice -n 10 $(BIN)/python bench/fuzz.py --cases 28000

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
