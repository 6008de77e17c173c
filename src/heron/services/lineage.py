"""Lineage: the graph from datasets to runs to model versions, walked either way.

Edges always point downstream (dataset -> run -> model version); a query from a model
version walks up to the data that produced it, a query from a dataset walks down to the
versions trained on it.
"""

from __future__ import annotations

from collections.abc import Iterable

from heron.entities import Dataset, Run
from heron.entities.registry import LineageEdge, LineageGraph, LineageNode, ModelVersion
from heron.errors import InvalidArgument, NotFound
from heron.services.tracking import TrackingService
from heron.store.registry_base import RegistryStore, RunDataset


def dataset_node_id(dataset: Dataset) -> str:
    return f"dataset:{dataset.name}@{dataset.digest}"


def version_node_id(version: ModelVersion) -> str:
    return f"model:{version.name}/{version.version}"


class _Builder:
    def __init__(self, tracking: TrackingService) -> None:
        self.tracking = tracking
        self.nodes: dict[str, LineageNode] = {}
        self.edges: dict[tuple[str, str, str], LineageEdge] = {}

    def dataset(self, dataset: Dataset) -> str:
        node_id = dataset_node_id(dataset)
        self.nodes.setdefault(
            node_id,
            LineageNode(
                node_id,
                "dataset",
                f"{dataset.name} ({dataset.digest[:12]})",
                {
                    "name": dataset.name,
                    "digest": dataset.digest,
                    "source": dataset.source,
                    "source_type": dataset.source_type,
                },
            ),
        )
        return node_id

    def run(self, run_id: str) -> str:
        node_id = f"run:{run_id}"
        if node_id not in self.nodes:
            try:
                run: Run | None = self.tracking.get_run(run_id)
            except NotFound:
                run = None  # the run was removed; keep the node, say so
            attributes = (
                {
                    "run_id": run.id,
                    "name": run.name,
                    "experiment_id": run.experiment_id,
                    "status": run.status.value,
                    "user": run.user,
                    "git_commit": run.git_commit,
                }
                if run is not None
                else {"run_id": run_id, "missing": True}
            )
            label = f"{run.name} ({run_id[:8]})" if run is not None else f"{run_id} (missing)"
            self.nodes[node_id] = LineageNode(node_id, "run", label, attributes)
        return node_id

    def version(self, version: ModelVersion) -> str:
        node_id = version_node_id(version)
        self.nodes.setdefault(
            node_id,
            LineageNode(
                node_id,
                "model_version",
                f"{version.name} v{version.version}"
                + (f" @{', @'.join(version.aliases)}" if version.aliases else ""),
                {
                    "name": version.name,
                    "version": version.version,
                    "aliases": list(version.aliases),
                    "stage": version.stage.value,
                    "status": version.status.value,
                },
            ),
        )
        return node_id

    def edge(self, source: str, target: str, relation: str) -> None:
        self.edges.setdefault((source, target, relation), LineageEdge(source, target, relation))

    def inputs(self, rows: Iterable[RunDataset]) -> None:
        for row in rows:
            relation = f"input_to ({row.context})" if row.context else "input_to"
            self.edge(self.dataset(row.dataset), self.run(row.run_id), relation)

    def graph(self, root: str) -> LineageGraph:
        return LineageGraph(root, tuple(self.nodes.values()), tuple(self.edges.values()))


def model_lineage(
    store: RegistryStore, tracking: TrackingService, version: ModelVersion
) -> LineageGraph:
    """What produced ``version``: its run and the datasets the run took as inputs."""
    builder = _Builder(tracking)
    root = builder.version(version)
    if version.run_id is not None:
        builder.edge(builder.run(version.run_id), root, "produced")
        builder.inputs(store.datasets_of_runs([version.run_id]))
    return builder.graph(root)


def dataset_lineage(
    store: RegistryStore, tracking: TrackingService, digest: str, name: str | None = None
) -> LineageGraph:
    """What was built from a dataset: the runs that took it and the versions they produced."""
    rows = store.runs_with_dataset(digest, name)
    if not rows:
        which = f"{name!r} with digest {digest!r}" if name else f"with digest {digest!r}"
        raise NotFound(f"no run took a dataset {which} as input")
    builder = _Builder(tracking)
    builder.inputs(rows)
    root = dataset_node_id(rows[0].dataset)
    for version in store.versions_of_runs(sorted({row.run_id for row in rows})):
        builder.edge(builder.run(version.run_id or ""), builder.version(version), "produced")
    return builder.graph(root)


def run_lineage(store: RegistryStore, tracking: TrackingService, run_id: str) -> LineageGraph:
    """One run with its input datasets and the model versions registered from it."""
    if not run_id:
        raise InvalidArgument("name a run id")
    builder = _Builder(tracking)
    tracking.get_run(run_id)  # NotFound for an unknown run
    root = builder.run(run_id)
    builder.inputs(store.datasets_of_runs([run_id]))
    for version in store.versions_of_runs([run_id]):
        builder.edge(root, builder.version(version), "produced")
    return builder.graph(root)
