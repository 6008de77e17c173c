"""The fluent API of the model registry: ``heron.register_model`` and friends.

They use the same client (tracking URI) as the tracking functions in ``heron.fluent``.
"""

from __future__ import annotations

from collections.abc import Mapping

from heron.entities.registry import LineageGraph, ModelVersion, RegisteredModel, TransitionRequest
from heron.fluent import _get_client


def register_model(
    model_uri: str,
    name: str,
    *,
    description: str | None = None,
    tags: Mapping[str, object] | None = None,
) -> ModelVersion:
    """Register ``runs:/<run_id>/<path>`` as the next version of ``name`` (created if new).

    >>> mv = heron.register_model(f"runs:/{run.id}/model", "fraud-detector")
    """
    return _get_client().register_model(model_uri, name, description=description, tags=tags)


def set_alias(name: str, alias: str, version: int) -> RegisteredModel:
    """Point ``alias`` (e.g. challenger) at ``version``; protected aliases need a request."""
    return _get_client().set_alias(name, alias, version)


def delete_alias(name: str, alias: str) -> RegisteredModel:
    return _get_client().delete_alias(name, alias)


def request_transition(name: str, version: int, to: str, comment: str = "") -> TransitionRequest:
    """Ask to point alias (or stage) ``to`` at ``version``; an approver accepts it."""
    return _get_client().request_transition(name, version, to, comment=comment)


def approve(name: str, request_id: int, comment: str = "") -> TransitionRequest:
    """Accept a transition request (needs the approver role) and apply its move."""
    return _get_client().approve(name, request_id, comment=comment)


def reject(name: str, request_id: int, comment: str = "") -> TransitionRequest:
    return _get_client().reject(name, request_id, comment=comment)


def lineage(target: str) -> LineageGraph:
    """Datasets -> runs -> model versions around ``models:/...``, ``runs:/<id>`` or
    ``dataset:<digest>``."""
    return _get_client().lineage(target)
