# Two commands: `make run` and `make test`. Both build .venv from scratch when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast install lint typecheck bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)
	@if [ -x scripts/build-assets ]; then scripts/build-assets; fi

run: install
	mkdir -p var
	SAFESLOT_ENVIRONMENT=$${SAFESLOT_ENVIRONMENT:-demo} $(BIN)/safeslot db upgrade
	SAFESLOT_ENVIRONMENT=$${SAFESLOT_ENVIRONMENT:-demo} $(BIN)/safeslot demo load
	# the outbox worker (reminders, notices) beside the server; stopped with it
	export SAFESLOT_ENVIRONMENT=$${SAFESLOT_ENVIRONMENT:-demo}; \
	$(BIN)/safeslot worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/safeslot serve

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

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
