"""Use cases and business rules; they take their stores as arguments."""

from heron.services.tracking import DEFAULT_EXPERIMENT_NAME, TrackingService

__all__ = ["DEFAULT_EXPERIMENT_NAME", "TrackingService"]
