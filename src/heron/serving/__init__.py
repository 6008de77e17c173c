"""Heron's scoring server: ``heron serve URI`` or ``create_app(ServingSettings(uri))``.

Protocols: MLflow ``/invocations`` and the Open Inference Protocol V2 (KServe). See
docs/serving.md.
"""

from heron.serving.app import create_app
from heron.serving.settings import BatchingSettings, ServingSettings

__all__ = ["BatchingSettings", "ServingSettings", "create_app"]
