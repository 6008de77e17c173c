# Heron: `make demo` runs a small tracked training sweep; `make test` runs every check.
# Both create .venv and install what they need on a fresh machine.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(PY) examples/sweep.py
	$(VENV)/bin/heron runs list --experiment demo-sweep --order-by "metrics.auc DESC" --max-results 5

lint: install
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check src tests benchmarks examples

typecheck: install
	$(VENV)/bin/mypy

unit: install
	$(PY) -m pytest -n 2 --dist loadfile --cov --cov-report=term

test: lint typecheck unit

bench: install
	bash benchmarks/setup_mlflow.sh
	$(PY) benchmarks/bench_tracking.py

clean:
	rm -rf $(VENV) .heron .mypy_cache .ruff_cache .pytest_cache
