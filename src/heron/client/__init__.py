"""The Python client: the object API (``Client``) and its helpers."""

from heron.client.client import Client

__all__ = ["Client"]
