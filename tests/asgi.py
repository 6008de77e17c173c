"""Starlette's in-process TestClient, imported once for every test module that needs it."""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    # Starlette asks for httpx2; Heron's client is built on httpx, which TestClient still
    # supports. The warning is about that choice, not about a fault in the tests.
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

__all__ = ["TestClient"]
