"""Scale-out artifacts: a Docker build context for a model, Kubernetes manifests for an
endpoint. Plain text generation; nothing here talks to Docker or a cluster.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import yaml

import heron
from heron.errors import AlreadyExists, InvalidArgument

PORT = 8080
# Kubernetes object names: lowercase RFC 1123 labels.
_K8S_NAME = re.compile(r"[^a-z0-9-]+")

DOCKERFILE = """\
# Built by `heron models build-docker`: the model and `heron serve`, nothing else.
FROM python:{python}-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN useradd --create-home --uid 10001 heron
WORKDIR /srv
# Dependencies first, in their own layer: a new model version with the same
# requirements rebuilds only the last layers.
COPY model/requirements.txt /srv/requirements.txt
RUN pip install "heron-ml{heron_pin}" -r /srv/requirements.txt
COPY --chown=heron model /srv/model
USER heron
EXPOSE {port}
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s \\
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:{port}/ping')"
CMD ["heron", "serve", "/srv/model", "--host", "0.0.0.0", "--port", "{port}", \\
     "--workers", "{workers}"]
"""


def write_docker_context(
    model_folder: Path, target: Path, *, workers: int = 2, python: str = "3.11"
) -> Path:
    """``target`` with a Dockerfile and the model under ``model/``; returns the Dockerfile."""
    if target.exists() and any(target.iterdir()):
        raise AlreadyExists(f"{target} is not empty; choose a new folder for the build context")
    if not (model_folder / "requirements.txt").is_file():
        raise InvalidArgument(
            f"{model_folder} has no requirements.txt: save the model with heron or MLflow"
        )
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(model_folder, target / "model")
    dockerfile = target / "Dockerfile"
    version = heron.__version__
    dockerfile.write_text(
        DOCKERFILE.format(python=python, heron_pin=f"=={version}", port=PORT, workers=workers)
    )
    (target / ".dockerignore").write_text("**/__pycache__\n**/*.pyc\n")
    return dockerfile


def kubernetes_manifests(
    endpoint: str,
    *,
    image: str,
    tracking_uri: str,
    replicas: int = 2,
    max_replicas: int = 10,
    workers: int = 2,
    cpu_target_percent: int = 70,
) -> str:
    """A Deployment, Service and HorizontalPodAutoscaler serving ``endpoint``."""
    if not tracking_uri.startswith(("http://", "https://", "postgresql://")):
        raise InvalidArgument(
            f"pods need a tracking URI they can all reach (http(s):// or postgresql://), "
            f"not {tracking_uri!r}"
        )
    if not 1 <= replicas <= max_replicas:
        raise InvalidArgument(f"need 1 <= replicas ({replicas}) <= max replicas ({max_replicas})")
    name = k8s_name(f"heron-{endpoint}")
    labels = {"app.kubernetes.io/name": "heron-serving", "heron.dev/endpoint": name}
    command = ["heron", "--tracking-uri", tracking_uri, "endpoints", "serve", endpoint]
    command += ["--host", "0.0.0.0", "--port", str(PORT), "--workers", str(workers)]
    container: dict[str, Any] = {
        "name": "scoring",
        "image": image,
        "command": command,
        "ports": [{"name": "http", "containerPort": PORT}],
        # A worker listens only once its model is loaded: up to 5 minutes for large ones.
        "startupProbe": {**_probe("/v2/health/live", period=5), "failureThreshold": 60},
        "readinessProbe": _probe("/v2/health/ready", period=5),
        "livenessProbe": _probe("/v2/health/live", period=10),
        "resources": {
            "requests": {"cpu": f"{workers * 500}m", "memory": "512Mi"},
            "limits": {"memory": "2Gi"},
        },
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            # Surge first: old pods keep serving until new ones are ready.
            "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {
                    "labels": labels,
                    "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(PORT),
                        "prometheus.io/path": "/metrics",
                    },
                },
                "spec": {
                    # Time for the server to drain requests in flight after SIGTERM.
                    "terminationGracePeriodSeconds": 45,
                    "containers": [container],
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "selector": labels,
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
        },
    }
    autoscaler = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": replicas,
            "maxReplicas": max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": cpu_target_percent},
                    },
                }
            ],
        },
    }
    return yaml.safe_dump_all([deployment, service, autoscaler], sort_keys=False)


def k8s_name(text: str) -> str:
    name = _K8S_NAME.sub("-", text.lower()).strip("-")[:63].rstrip("-")
    if not name:
        raise InvalidArgument(f"{text!r} gives no valid Kubernetes name")
    return name


def _probe(path: str, *, period: int) -> dict[str, Any]:
    return {"httpGet": {"path": path, "port": "http"}, "periodSeconds": period}
