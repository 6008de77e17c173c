"""JSON codecs of registry entities: the REST API's bodies and the CLI's --json output."""

from __future__ import annotations

from typing import Any

from heron.entities.lifecycle import LifecycleStage
from heron.entities.registry import (
    AuditEvent,
    LineageEdge,
    LineageGraph,
    LineageNode,
    ModelVersion,
    ModelVersionStatus,
    RegisteredModel,
    RequestStatus,
    Stage,
    TransitionRequest,
)


def model_to_dict(model: RegisteredModel) -> dict[str, Any]:
    return {
        "name": model.name,
        "description": model.description,
        "owner": model.owner,
        "created_at": model.created_at,
        "updated_at": model.updated_at,
        "lifecycle_stage": model.lifecycle_stage.value,
        "tags": model.tags,
        "aliases": model.aliases,
        "protected_aliases": list(model.protected_aliases),
        "allow_self_approval": model.allow_self_approval,
        "latest_version": model.latest_version,
        "label_revision": model.label_revision,
    }


def model_from_dict(data: dict[str, Any]) -> RegisteredModel:
    return RegisteredModel(
        name=data["name"],
        description=data["description"],
        owner=data["owner"],
        created_at=data["created_at"],
        updated_at=data["updated_at"],
        lifecycle_stage=LifecycleStage(data["lifecycle_stage"]),
        tags=dict(data["tags"]),
        aliases={k: int(v) for k, v in data["aliases"].items()},
        protected_aliases=tuple(data["protected_aliases"]),
        allow_self_approval=bool(data["allow_self_approval"]),
        latest_version=data["latest_version"],
        label_revision=data["label_revision"],
    )


def version_to_dict(version: ModelVersion) -> dict[str, Any]:
    return {
        "name": version.name,
        "version": version.version,
        "source": version.source,
        "run_id": version.run_id,
        "artifact_path": version.artifact_path,
        "status": version.status.value,
        "status_message": version.status_message,
        "description": version.description,
        "stage": version.stage.value,
        "signature": version.signature,
        "created_by": version.created_by,
        "created_at": version.created_at,
        "updated_at": version.updated_at,
        "lifecycle_stage": version.lifecycle_stage.value,
        "tags": version.tags,
        "aliases": list(version.aliases),
    }


def version_from_dict(data: dict[str, Any]) -> ModelVersion:
    return ModelVersion(
        name=data["name"],
        version=int(data["version"]),
        source=data["source"],
        run_id=data["run_id"],
        artifact_path=data["artifact_path"],
        status=ModelVersionStatus(data["status"]),
        status_message=data["status_message"],
        description=data["description"],
        stage=Stage(data["stage"]),
        signature=data["signature"],
        created_by=data["created_by"],
        created_at=data["created_at"],
        updated_at=data["updated_at"],
        lifecycle_stage=LifecycleStage(data["lifecycle_stage"]),
        tags=dict(data["tags"]),
        aliases=tuple(data["aliases"]),
    )


def request_to_dict(request: TransitionRequest) -> dict[str, Any]:
    return {
        "id": request.id,
        "name": request.name,
        "version": request.version,
        "target": request.target,
        "status": request.status.value,
        "requested_by": request.requested_by,
        "created_at": request.created_at,
        "comment": request.comment,
        "resolved_by": request.resolved_by,
        "resolved_at": request.resolved_at,
        "resolution_comment": request.resolution_comment,
    }


def request_from_dict(data: dict[str, Any]) -> TransitionRequest:
    return TransitionRequest(
        id=int(data["id"]),
        name=data["name"],
        version=int(data["version"]),
        target=data["target"],
        status=RequestStatus(data["status"]),
        requested_by=data["requested_by"],
        created_at=data["created_at"],
        comment=data["comment"],
        resolved_by=data["resolved_by"],
        resolved_at=data["resolved_at"],
        resolution_comment=data["resolution_comment"],
    )


def event_to_dict(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": event.at,
        "actor": event.actor,
        "action": event.action,
        "model": event.model,
        "version": event.version,
        "before": event.before,
        "after": event.after,
        "reason": event.reason,
        "outcome": event.outcome,
    }


def event_from_dict(data: dict[str, Any]) -> AuditEvent:
    return AuditEvent(
        id=int(data["id"]),
        at=data["at"],
        actor=data["actor"],
        action=data["action"],
        model=data["model"],
        version=data["version"],
        before=data["before"],
        after=data["after"],
        reason=data["reason"],
        outcome=data["outcome"],
    )


def lineage_to_dict(graph: LineageGraph) -> dict[str, Any]:
    return {
        "root": graph.root,
        "nodes": [
            {"id": n.id, "kind": n.kind, "label": n.label, "attributes": n.attributes}
            for n in graph.nodes
        ],
        "edges": [
            {"source": e.source, "target": e.target, "relation": e.relation} for e in graph.edges
        ],
    }


def lineage_from_dict(data: dict[str, Any]) -> LineageGraph:
    return LineageGraph(
        root=data["root"],
        nodes=tuple(
            LineageNode(n["id"], n["kind"], n["label"], dict(n["attributes"]))
            for n in data["nodes"]
        ),
        edges=tuple(LineageEdge(e["source"], e["target"], e["relation"]) for e in data["edges"]),
    )
