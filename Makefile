# Two commands: `make run` and `make test`. Both build .venv from scratch when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint typecheck bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)
	@if [ -x scripts/build-assets ]; then scripts/build-assets; fi

run: install
	BIN=$(BIN) scripts/run  # migrate, start the local witness (scripts/witness), load the demo, serve

test: install
	@if [ -x scripts/test-deps ]; then scripts/test-deps; fi
	$(BIN)/pytest -q -p no:cacheprovider

lint: install
	$(BIN)/ruff check src tests bench

typecheck: install
	$(BIN)/mypy src

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
