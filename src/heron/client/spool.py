"""A local spool: metric batches kept on disk while the tracking server is unreachable.

One JSON-lines file per process, created only when something must be kept. Each line
is a batch with its request id, so resending it (by this process when the server
returns, or by ``heron sync`` after the process died) stores it exactly once.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from heron.entities import Metric, wire

SPOOL_DIR_ENV = "HERON_SPOOL_DIR"
FORMAT_VERSION = 1


def default_spool_dir() -> Path:
    configured = os.environ.get(SPOOL_DIR_ENV)
    return Path(configured) if configured else Path.home() / ".heron" / "spool"


@dataclass(frozen=True)
class SpooledBatch:
    tracking_uri: str
    run_id: str
    request_id: str
    metrics: tuple[Metric, ...]


class Spool:
    """The spool file of this process (``<host>-<pid>-<random>.jsonl`` in ``directory``)."""

    def __init__(self, directory: Path, tracking_uri: str) -> None:
        self.directory = directory
        self.tracking_uri = tracking_uri
        host = socket.gethostname().replace("-", "_")
        self.path = directory / f"{host}-{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"

    def append(self, run_id: str, request_id: str, metrics: Sequence[Metric]) -> None:
        line = orjson.dumps(
            {
                "v": FORMAT_VERSION,
                "tracking_uri": self.tracking_uri,
                "run_id": run_id,
                "request_id": request_id,
                "metrics": [wire.metric_to_dict(m) for m in metrics],
            }
        )
        self.directory.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as handle:
            handle.write(line + b"\n")
            handle.flush()
            # Durable before we report the batch as kept: the process may die next.
            os.fsync(handle.fileno())

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


def read_spool(path: Path) -> Iterator[SpooledBatch]:
    """The batches of a spool file; a torn last line (a crash mid-write) is skipped."""
    with path.open("rb") as handle:
        for line in handle:
            try:
                data = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            yield SpooledBatch(
                tracking_uri=data["tracking_uri"],
                run_id=data["run_id"],
                request_id=data["request_id"],
                metrics=tuple(wire.metric_from_dict(m) for m in data["metrics"]),
            )


def abandoned_spools(directory: Path) -> list[Path]:
    """Spool files whose process is gone (on this host), oldest first."""
    if not directory.is_dir():
        return []
    host = socket.gethostname().replace("-", "_")
    found = []
    for path in directory.glob("*.jsonl"):
        owner_host, _, rest = path.stem.partition("-")
        pid_text = rest.partition("-")[0]
        if owner_host == host and pid_text.isdigit() and _alive(int(pid_text)):
            continue
        found.append(path)
    return sorted(found, key=lambda p: p.stat().st_mtime)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
