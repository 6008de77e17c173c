"""Optional model libraries in tests: skip with the reason when an extra is missing,
but fail under CI=true, where every extra is installed (as conftest.py does for
PostgreSQL)."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(module: str, extra: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as error:
        message = f"{module} is not installed ({error}); pip install 'heron-ml[{extra}]'"
        if IN_CI:
            pytest.fail(f"CI=true and {message}")
        pytest.skip(message)
