# Two entry points: `make run` (set up, then run the default scenarios into ./out)
# and `make test` (set up, then lint and run the test suite; `make test-fast` leaves out the
# tests marked slow).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup system-deps run test test-fast lint conformance check docs regen benchmark clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@# the model parsed and the kernels the first commands need (run, uncertainty, brief, explore,
	@# diagram) compiled into the user's cache once, at install time, so the first command on a
	@# new machine starts warm (sim.api.warm_start)
	$(BIN)/python -c 'from sim.api import warm_start; warm_start()'
	touch $(STAMP)

# Graphviz (`dot`) lays out the sketch and draws the diagrams (plansim diagram); Pango and
# HarfBuzz-subset are the libraries WeasyPrint prints the briefing PDF with (plansim brief);
# Chromium is the browser the explorer's browser tests drive (tests/test_explorer_browser.py,
# through Playwright, which never downloads a browser of its own here).
# Installed with apt-get when missing and run as root; otherwise say how to install them
# (macOS: brew install graphviz pango chromium).
APT_DEPS := graphviz libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 chromium
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
system-deps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  missing=$$(for p in $(APT_DEPS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	  if [ -n "$$missing" ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  fi; \
	else \
	  command -v dot >/dev/null 2>&1 || echo "warning: Graphviz 'dot' is missing; plansim diagram and its tests need it: install the system package graphviz (apt-get install graphviz, brew install graphviz)" >&2; \
	  echo "note: the briefing PDF (plansim brief) needs the Pango and HarfBuzz-subset libraries (apt-get install $(APT_DEPS); brew install pango)" >&2; \
	  command -v chromium >/dev/null 2>&1 || echo "warning: chromium is missing; the explorer's browser tests need it at /usr/bin/chromium (or PLANSIM_CHROMIUM=path): install the system package chromium" >&2; \
	fi

# The project's own modules compiled to bytecode, as pip does for the packages it installs: a
# machine that sets PYTHONDONTWRITEBYTECODE (the machines this project is built on do) compiles
# every module of sim again in every process, about half a second of each command's start and
# of each process a test starts. Only changed files are compiled again (a few ms when current).
setup: system-deps $(STAMP)
	$(BIN)/python -m compileall -q sim tests

run: setup
	$(BIN)/plansim run

lint: setup
	$(BIN)/ruff check .

test: setup lint
	$(BIN)/python -m pytest -n 2

# the same without the tests marked slow (a quick check while editing)
test-fast: setup lint
	$(BIN)/python -m pytest -n 2 -m "not slow"

conformance: setup
	$(BIN)/plansim conformance ../shared/conformance

check: setup
	$(BIN)/plansim check

docs: setup
	$(BIN)/plansim docs

# every committed generated file, in dependency order (plansim regen --check: what is stale)
regen: setup
	$(BIN)/plansim regen

benchmark: setup
	$(BIN)/python benchmarks/engine_vs_pysd.py

clean:
	rm -rf $(VENV) out .pytest_cache
