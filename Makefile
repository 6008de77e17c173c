# Heron: `make demo` runs a small tracked training sweep, promotes the best model and serves
# the web UI over it; `make test` runs every check.
# Both create .venv and install what they need on a fresh machine.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test lint typecheck unit bench clean ui chromium

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The web UI (ui/, TypeScript) builds into the Python package, where `heron server`
# serves it; rebuilt only when its sources or its locked dependencies change.
UI_DIST := src/heron/server/ui_dist/index.html
UI_MODULES := ui/node_modules/.package-lock.json
UI_SOURCES := $(shell find ui/src -type f 2>/dev/null) ui/index.html ui/package.json \
	ui/vite.config.ts ui/tsconfig.json

$(UI_MODULES): ui/package-lock.json
	cd ui && npm ci --no-audit --no-fund
	touch $(UI_MODULES)

$(UI_DIST): $(UI_MODULES) $(UI_SOURCES)
	cd ui && npm run build

ui: $(UI_DIST)

install: $(STAMP) $(UI_DIST)

# The UI's end-to-end tests drive Debian's Chromium (never a browser Playwright downloads).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
chromium:
	@test -x /usr/bin/chromium || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium; }

demo: install
	$(PY) examples/sweep.py
	$(VENV)/bin/heron runs list --experiment demo-sweep --order-by "metrics.auc DESC" --max-results 5
	$(VENV)/bin/heron models lineage models:/demo-classifier@champion
	@# Ends by serving the web UI over the demo's data (HERON_DEMO_NO_UI=1 skips it).
	@if [ -z "$$HERON_DEMO_NO_UI" ]; then $(VENV)/bin/heron ui --port $${HERON_DEMO_PORT:-5000}; fi

lint: install
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check src tests benchmarks examples

typecheck: install
	$(VENV)/bin/mypy

unit: install chromium
	$(PY) -m pytest -n 2 --dist loadfile --cov --cov-report=term --durations=30

test: lint typecheck unit

bench: install
	bash benchmarks/setup_mlflow.sh
	$(PY) benchmarks/bench_tracking.py

clean:
	rm -rf $(VENV) .heron .mypy_cache .ruff_cache .pytest_cache ui/node_modules test-artifacts
