"""Metadata stores: the interface and its SQL implementation."""

from heron.store.base import TrackingStore, ViewType
from heron.store.sql_store import SqlTrackingStore

__all__ = ["SqlTrackingStore", "TrackingStore", "ViewType"]
