"""What the endpoints service needs from a metadata store: four calls."""

from __future__ import annotations

from abc import ABC, abstractmethod

from heron.entities.endpoint import Endpoint


class EndpointStore(ABC):
    @abstractmethod
    def create_endpoint(self, endpoint: Endpoint) -> Endpoint:
        """Store a new endpoint (``AlreadyExists`` if the name is taken)."""

    @abstractmethod
    def get_endpoint(self, name: str) -> Endpoint:
        """The endpoint named ``name`` (``NotFound`` if none)."""

    @abstractmethod
    def list_endpoints(self) -> list[Endpoint]:
        """Every endpoint, by name."""

    @abstractmethod
    def replace_endpoint(self, endpoint: Endpoint, expected_revision: int) -> Endpoint:
        """Store ``endpoint`` (same name) as revision ``expected_revision + 1``, if the stored
        one is still at ``expected_revision``; else ``Conflict``."""

    @abstractmethod
    def delete_endpoint(self, name: str) -> None:
        """Remove the endpoint and its routes (``NotFound`` if none)."""
