"""`heron models build-docker` and `heron endpoints k8s`: the generated files are valid."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import heron
from heron.cli.main import app
from heron.errors import InvalidArgument
from heron.models import load
from heron.serving.app import create_app
from heron.serving.deploy import k8s_name, kubernetes_manifests
from heron.serving.settings import ServingSettings
from serving_helpers import tensor_model

runner = CliRunner(env={"COLUMNS": "200", "HERON_TRACKING_URI": None})


def test_build_docker_writes_a_context_that_serves_the_model(tmp_path: Path) -> None:
    model = tensor_model(tmp_path / "model")
    target = tmp_path / "context"
    done = runner.invoke(app, ["models", "build-docker", str(model), "--output", str(target)])
    assert done.exit_code == 0, done.output
    dockerfile = (target / "Dockerfile").read_text()
    instructions = [line.split()[0] for line in dockerfile.splitlines() if line[:1].isupper()]
    assert instructions[0] == "FROM"
    assert {"RUN", "COPY", "EXPOSE", "HEALTHCHECK", "CMD", "USER"} <= set(instructions)
    assert f"heron-ml=={heron.__version__}" in dockerfile
    assert '"serve", "/srv/model"' in dockerfile
    assert "COPY model/requirements.txt" in dockerfile
    # The copied model is complete: it still loads (its file hashes are checked).
    assert load(target / "model").predict([[0.9, 0.1, 0.2]]).shape == (1,)
    again = runner.invoke(app, ["models", "build-docker", str(model), "--output", str(target)])
    assert again.exit_code == 4


def test_k8s_manifests_are_consistent_and_probe_real_routes(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'heron.db'}"
    created = runner.invoke(
        app, ["--tracking-uri", uri, "endpoints", "create", "Fraud_v2", "--model", "models:/f/1"]
    )
    assert created.exit_code == 0, created.output
    done = runner.invoke(
        app,
        ["--tracking-uri", uri, "endpoints", "k8s", "Fraud_v2", "--image", "reg/heron:1",
         "--pod-tracking-uri", "http://heron:5000", "--replicas", "3"],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    deployment, service, hpa = yaml.safe_load_all(done.stdout)
    assert [deployment["kind"], service["kind"], hpa["kind"]] == [
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
    ]
    name = deployment["metadata"]["name"]
    assert name == "heron-fraud-v2"
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"] == labels
    assert service["spec"]["selector"] == labels
    assert hpa["spec"]["scaleTargetRef"]["name"] == name
    assert hpa["spec"]["minReplicas"] == deployment["spec"]["replicas"] == 3
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "reg/heron:1"
    assert container["command"][:6] == [
        "heron", "--tracking-uri", "http://heron:5000", "endpoints", "serve", "Fraud_v2",
    ]  # fmt: skip
    port_names = {p["name"] for p in container["ports"]}
    assert service["spec"]["ports"][0]["targetPort"] in port_names
    # The probes name routes the scoring app really has.
    paths = {route.path for route in create_app(ServingSettings("m")).routes}  # type: ignore[attr-defined]
    assert container["readinessProbe"]["httpGet"]["path"] in paths
    assert container["livenessProbe"]["httpGet"]["path"] in paths
    assert container["startupProbe"]["httpGet"]["path"] in paths


def test_k8s_refuses_a_tracking_uri_pods_cannot_share() -> None:
    with pytest.raises(InvalidArgument, match="tracking URI they can all reach"):
        kubernetes_manifests("fraud", image="i", tracking_uri="sqlite:///local.db")
    with pytest.raises(InvalidArgument):
        k8s_name("___")
