# Two entry points: `make run` (set up, then run the default scenarios into ./out)
# and `make test` (set up, then lint and run the test suite).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup run test lint conformance check docs benchmark clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/plansim run

lint: setup
	$(BIN)/ruff check .

test: setup lint
	$(BIN)/python -m pytest -n 2

conformance: setup
	$(BIN)/plansim conformance ../shared/conformance

check: setup
	$(BIN)/plansim check

docs: setup
	$(BIN)/plansim docs

benchmark: setup
	$(BIN)/python benchmarks/engine_vs_pysd.py

clean:
	rm -rf $(VENV) out .pytest_cache
