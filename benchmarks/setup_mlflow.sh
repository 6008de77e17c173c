#!/usr/bin/env bash
# Create benchmarks/.venv-mlflow: MLflow in its own virtualenv, so that the incumbent's
# dependency pins never leak into Heron's environment and vice versa.
#
# Idempotent: an existing venv with the pinned version is reused, so `make bench` only
# pays for the install once. Set MLFLOW_VERSION to benchmark another release.
# psycopg (3) is MLflow's PostgreSQL driver in the server benchmark (bench_server.py):
# SQLAlchemy 2.1 picks it for postgresql:// URIs.
set -euo pipefail

MLFLOW_VERSION="${MLFLOW_VERSION:-3.17.2}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${HERE}/.venv-mlflow"
PYTHON="${PYTHON:-python3}"

if [[ -x "${VENV}/bin/python" ]] \
    && "${VENV}/bin/python" -c "import importlib.metadata as m, sys; \
sys.exit(m.version('mlflow') != '${MLFLOW_VERSION}')" 2>/dev/null; then
    if ! "${VENV}/bin/python" -c "import psycopg" 2>/dev/null; then
        "${VENV}/bin/python" -m pip install --quiet "psycopg[binary]"
    fi
    echo "mlflow ${MLFLOW_VERSION} already installed in ${VENV}"
    exit 0
fi

echo "creating ${VENV} with mlflow==${MLFLOW_VERSION} (one-off, takes a few minutes)"
"${PYTHON}" -m venv --clear "${VENV}"
"${VENV}/bin/python" -m pip install --quiet --upgrade pip
"${VENV}/bin/python" -m pip install --quiet "mlflow==${MLFLOW_VERSION}" "psycopg[binary]"
"${VENV}/bin/python" -c "import mlflow; print('installed mlflow', mlflow.__version__)"
