"""Metadata stores: the interfaces and their SQL implementations."""

from heron.store.base import TrackingStore, ViewType
from heron.store.registry_base import Change, NewVersion, RegistryStore, RunDataset
from heron.store.sql_endpoints import SqlEndpointStore
from heron.store.sql_registry import SqlRegistryStore
from heron.store.sql_store import SqlTrackingStore

__all__ = [
    "Change",
    "NewVersion",
    "RegistryStore",
    "RunDataset",
    "SqlEndpointStore",
    "SqlRegistryStore",
    "SqlTrackingStore",
    "TrackingStore",
    "ViewType",
]
