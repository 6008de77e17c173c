"""Previews of run artifacts for the web UI, read on the server where the libraries are.

- A Parquet file as a table: only its footer and the first record batch are read (a
  batch comes from the first row group), so a file of any size costs about one row
  group of memory and I/O.
- A model folder's manifest (``heron-model.yaml``, or MLflow's ``MLmodel``) as one shape
  for both formats: flavors, the signature's inputs / outputs / params as rows, the
  environment. The viewer never imports or loads the model.

Every value goes out as JSON data that the UI renders as text.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
import yaml

from heron.errors import InvalidArgument, NotFound
from heron.models.manifest import MANIFEST_FILE, parse_manifest
from heron.models.mlflow_dir import MLMODEL
from heron.models.signature import Schema

if TYPE_CHECKING:
    from heron.services.tracking import TrackingService

MAX_PREVIEW_ROWS = 1000
MAX_PREVIEW_COLUMNS = 200  # a wide table shows its first columns; the rest are counted
MAX_CELL_CHARS = 500
MAX_MANIFEST_BYTES = 1 << 20  # manifests are a few KiB; anything larger is not one
MAX_REQUIREMENTS_BYTES = 256 << 10


@dataclass(frozen=True)
class TablePreview:
    columns: list[dict[str, str]]  # name, type (Arrow's spelling)
    rows: list[list[Any]]
    total_rows: int
    total_columns: int


def parquet_preview(service: TrackingService, run_id: str, path: str, rows: int) -> TablePreview:
    """The first ``rows`` rows (at most MAX_PREVIEW_ROWS) of a Parquet artifact."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not 1 <= rows <= MAX_PREVIEW_ROWS:
        raise InvalidArgument(f"rows must be between 1 and {MAX_PREVIEW_ROWS}, got {rows}")
    with service.open_artifact(run_id, path) as handle:
        try:
            parquet = pq.ParquetFile(handle)
            schema = parquet.schema_arrow
            names = schema.names[:MAX_PREVIEW_COLUMNS]
            batch = next(parquet.iter_batches(batch_size=rows, columns=names), None)
        except (pa.ArrowException, OSError) as error:
            raise InvalidArgument(f"{path!r} is not a readable Parquet file: {error}") from None
        total_rows = parquet.metadata.num_rows
    columns = [{"name": name, "type": str(schema.field(name).type)} for name in names]
    values = batch.to_pylist() if batch is not None else []
    return TablePreview(
        columns=columns,
        rows=[[_cell(row[name]) for name in names] for row in values[:rows]],
        total_rows=total_rows,
        total_columns=len(schema.names),
    )


def _cell(value: Any) -> Any:
    """A Parquet value as JSON data: numbers and text as they are (non-finite floats as
    the API's strings), everything else as its text."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else _NON_FINITE[str(value)]
    if isinstance(value, str):
        text = value
    elif isinstance(value, dt.date | dt.time):
        text = value.isoformat()
    elif isinstance(value, bytes):
        text = f"<{len(value)} bytes>"
    elif isinstance(value, decimal.Decimal | dt.timedelta):
        text = str(value)
    else:  # lists, structs, maps
        text = orjson.dumps(value, default=str).decode()
    return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "…"


_NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def model_manifest(service: TrackingService, run_id: str, folder: str) -> dict[str, Any]:
    """What the model folder ``folder`` of a run declares, in one shape for Heron and
    MLflow models (see docs/rest-api.md); NotFound when it holds neither manifest."""
    names = {
        info.path.rsplit("/", 1)[-1] for info in service.list_artifacts(run_id, folder or None)
    }
    prefix = f"{folder.strip('/')}/" if folder.strip("/") else ""
    if MANIFEST_FILE in names:
        where = prefix + MANIFEST_FILE
        manifest = parse_manifest(_read_yaml(service, run_id, where), where)
        return {
            "format": "heron",
            "manifest_path": where,
            "flavors": [{"name": n, "config": _plain(c)} for n, c in manifest.flavors.items()],
            "signature": _heron_signature(manifest.signature),
            "environment": _plain(manifest.environment),
            "metadata": _plain(manifest.metadata),
            "created_at": manifest.created_at,
            "files": len(manifest.files),
            "size": manifest.size,
        }
    if MLMODEL in names:
        where = prefix + MLMODEL
        raw = _read_yaml(service, run_id, where)
        if not isinstance(raw, Mapping) or not isinstance(raw.get("flavors"), Mapping):
            raise InvalidArgument(f"{where} names no flavors")
        pyfunc = raw["flavors"].get("python_function") or {}
        requirements = (
            _requirements(service, run_id, prefix + "requirements.txt")
            if "requirements.txt" in names
            else []
        )
        return {
            "format": "mlflow",
            "manifest_path": where,
            "flavors": [{"name": str(n), "config": _plain(c)} for n, c in raw["flavors"].items()],
            "signature": _mlflow_signature(raw.get("signature")),
            "environment": {
                "python": str(pyfunc.get("python_version") or "")
                if isinstance(pyfunc, Mapping)
                else "",
                "requirements": requirements,
            },
            "metadata": _plain(raw.get("metadata") or {}),
            "created_at": str(raw.get("utc_time_created") or ""),
            "files": None,
            "size": None,
        }
    raise NotFound(
        f"artifact folder {folder!r} of run {run_id} holds no {MANIFEST_FILE} or {MLMODEL}"
    )


def _read_bytes(service: TrackingService, run_id: str, path: str, limit: int) -> bytes:
    with service.open_artifact(run_id, path) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise InvalidArgument(f"{path!r} is over {limit} bytes: too large to be a manifest")
    return data


def _read_yaml(service: TrackingService, run_id: str, path: str) -> Any:
    try:
        return yaml.safe_load(_read_bytes(service, run_id, path, MAX_MANIFEST_BYTES))
    except yaml.YAMLError as error:
        raise InvalidArgument(f"{path!r} is not valid YAML: {error}") from None


def _requirements(service: TrackingService, run_id: str, path: str) -> list[str]:
    text = _read_bytes(service, run_id, path, MAX_REQUIREMENTS_BYTES).decode("utf-8", "replace")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def _plain(value: Any) -> Any:
    """YAML data as JSON data (YAML also has dates, sets, ...)."""
    return orjson.loads(orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS))


def _heron_signature(signature: Any) -> dict[str, Any] | None:
    if signature is None:
        return None
    return {
        "inputs": _schema_rows(signature.inputs),
        "outputs": _schema_rows(signature.outputs) if signature.outputs else [],
        "params": [
            {"name": p.name, "type": p.type, "detail": f"default {p.default!r}"}
            for p in signature.params
        ],
    }


def _schema_rows(schema: Schema) -> list[dict[str, str]]:
    if schema.tensors:
        return [
            {"name": t.name or "", "type": t.dtype, "detail": f"shape {list(t.shape)}"}
            for t in schema.tensors
        ]
    return [
        {
            "name": c.name,
            "type": f"array<{c.items}>" if c.items else c.type,
            "detail": "" if c.required else "optional",
        }
        for c in schema.columns
    ]


def _mlflow_signature(raw: Any) -> dict[str, Any] | None:
    """MLflow keeps each part of a signature as a JSON string; parts Heron cannot read are
    shown empty rather than failing the whole view."""
    if not isinstance(raw, Mapping):
        return None
    return {part: _mlflow_rows(raw.get(part)) for part in ("inputs", "outputs", "params")}


def _mlflow_rows(text: Any) -> list[dict[str, str]]:
    try:
        entries = json.loads(text) if isinstance(text, str) else []
    except ValueError:
        return []
    rows = []
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, Mapping):
            continue
        spec = entry.get("tensor-spec")
        if entry.get("type") == "tensor" and isinstance(spec, Mapping):
            kind, detail = str(spec.get("dtype", "")), f"shape {spec.get('shape')}"
        else:
            kind = str(entry.get("type", ""))
            details = []
            if entry.get("required") is False:
                details.append("optional")
            if "default" in entry:
                details.append(f"default {entry['default']!r}")
            detail = ", ".join(details)
        rows.append({"name": str(entry.get("name", index)), "type": kind, "detail": detail})
    return rows
