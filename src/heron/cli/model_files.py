"""``heron models inspect|env|convert``: commands on model directories and URIs."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from heron.cli import output
from heron.cli.state import client
from heron.client import Client
from heron.errors import DataCorrupted, InvalidArgument
from heron.models import environment
from heron.models.archive import ARCHIVE_SUFFIXES, pack
from heron.models.flavors import LoadOptions
from heron.models.manifest import Manifest, verify_files
from heron.models.model import is_mlflow_dir, local_copy, read_any_manifest
from heron.models.signature import Schema, summary

JsonOption = Annotated[bool, typer.Option("--json", help=output.JSON_HELP)]
ModelUri = Annotated[
    str,
    typer.Argument(
        metavar="PATH_OR_URI",
        help="A model folder or archive, file://, runs:/<run_id>/<path> or models:/<name>/...",
    ),
]


def _client_for(ctx: typer.Context, uri: str) -> Client | None:
    # Local folders need no tracking store: don't open (or create) one for them.
    return client(ctx) if uri.startswith(("runs:/", "models:/")) else None


def register(app: typer.Typer) -> None:
    """Add the model-file commands to the ``heron models`` group."""
    app.command("inspect")(inspect)
    app.command("env")(env)
    app.command("convert")(convert)


def inspect(ctx: typer.Context, model_uri: ModelUri, as_json: JsonOption = False) -> None:
    """Show a model's flavor, signature, environment, size and whether its files check out."""
    with local_copy(model_uri, _client_for(ctx, model_uri)) as folder:
        manifest = read_any_manifest(folder)
        mlflow = is_mlflow_dir(folder)
        integrity = _integrity(folder, manifest, mlflow)
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    data = _describe(model_uri, manifest, integrity, size, "mlflow" if mlflow else "heron")
    if as_json:
        output.emit_json(data)
        return
    _print_description(data, manifest)


def _integrity(folder: Path, manifest: Manifest, mlflow: bool) -> str:
    if mlflow:
        return "not recorded (MLflow model; `heron models convert` records hashes)"
    try:
        verify_files(folder, manifest)
    except (DataCorrupted, InvalidArgument) as error:
        return f"FAILED: {error.message}"
    return f"verified ({len(manifest.files)} files, SHA-256)"


def _describe(
    uri: str, manifest: Manifest, integrity: str, size: int, model_format: str
) -> dict[str, Any]:
    signature = manifest.signature
    return {
        "uri": uri,
        "format": model_format,
        "format_version": manifest.format_version,
        "created_at": manifest.created_at or None,
        "flavor": manifest.primary_flavor,
        "flavors": manifest.flavors,
        "signature": signature.to_dict() if signature else None,
        "signature_summary": summary(signature),
        "environment": manifest.environment,
        "metadata": manifest.metadata,
        "size": size,
        "files": integrity,
    }


def _print_description(data: dict[str, Any], manifest: Manifest) -> None:
    console = output.console()
    overview = Table.grid(padding=(0, 2))
    overview.add_column(style="bold")
    overview.add_column(overflow="fold")
    env = manifest.environment
    git = env.get("git") or {}
    commit = git.get("commit", output.MISSING) + (" (dirty)" if git.get("dirty") else "")
    style = "bold red" if data["files"].startswith("FAILED") else ""
    for label, value in (
        ("model", Text(data["uri"])),
        ("format", Text(f"{data['format']} (version {data['format_version']})")),
        ("flavor", Text(", ".join(manifest.flavors))),
        ("created", Text(data["created_at"] or output.MISSING)),
        ("size", Text(output.fmt_size(data["size"]))),
        ("files", Text(data["files"], style=style)),
        ("python", Text(str(env.get("python") or output.MISSING))),
        ("git commit", Text(commit)),
    ):
        overview.add_row(label, value)
    console.print(overview)
    signature = manifest.signature
    console.print()
    if signature is None:
        console.print("Signature: none (input is passed to the model unchecked)")
    else:
        console.print(_schema_table("Inputs", signature.inputs))
        if signature.outputs is not None:
            console.print(_schema_table("Outputs", signature.outputs))
        if signature.params:
            params = {p.name: f"{p.type} = {p.default!r}" for p in signature.params}
            console.print(output.key_value_table("Params", params, "type = default"))
    packages = {k: str(v) for k, v in (env.get("packages") or {}).items()}
    console.print()
    if packages:
        console.print(output.key_value_table("Packages", packages, "version"))
    if manifest.metadata:
        metadata = {k: str(v) for k, v in manifest.metadata.items()}
        console.print(output.key_value_table("Metadata", metadata))


def _schema_table(title: str, schema: Schema) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold")
    if schema.columns:
        for column in ("name", "type", "required"):
            table.add_column(column)
        for spec in schema.columns:
            kind = f"array<{spec.items}>" if spec.type == "array" else spec.type
            table.add_row(Text(spec.name), kind, "yes" if spec.required else "no")
        return table
    for column in ("name", "dtype", "shape"):
        table.add_column(column)
    for tensor in schema.tensors:
        shape = "[" + ", ".join(str(d) for d in tensor.shape) + "]"
        table.add_row(Text(tensor.name or output.MISSING), tensor.dtype, shape)
    return table


def env(
    ctx: typer.Context,
    model_uri: ModelUri,
    output_dir: Annotated[
        Path, typer.Option("--output", "-o", help="Folder to write the two files into.")
    ] = Path("."),
) -> None:
    """Write requirements.txt and python_env.yaml that reproduce a model's environment."""
    with local_copy(model_uri, _client_for(ctx, model_uri)) as folder:
        manifest = read_any_manifest(folder)
    recorded = manifest.environment
    output_dir.mkdir(parents=True, exist_ok=True)
    requirements = output_dir / "requirements.txt"
    python_env = output_dir / "python_env.yaml"
    requirements.write_text(environment.requirements_txt(recorded))
    python_env.write_text(environment.python_env_yaml(recorded))
    typer.echo(f"Wrote {requirements} and {python_env} (python {recorded.get('python')})")
    for line in environment.differences(recorded):
        typer.echo(f"  differs here: {line}", err=True)


def convert(
    ctx: typer.Context,
    source: ModelUri,
    destination: Annotated[
        Path,
        typer.Argument(help=f"New model folder, or an archive ({', '.join(ARCHIVE_SUFFIXES)})."),
    ],
    allow_pickle: Annotated[
        bool,
        typer.Option(
            "--allow-pickle",
            help="Allow unpickling the source model (runs its code: only for trusted models).",
        ),
    ] = False,
    trusted_types: Annotated[
        list[str] | None,
        typer.Option("--trust", metavar="TYPE", help="Extra type skops may construct."),
    ] = None,
) -> None:
    """Write a model in the Heron format: from an MLflow model folder, or into an archive."""
    from heron.models.mlflow_dir import convert as convert_mlflow

    if destination.exists():
        raise InvalidArgument(f"{destination} already exists; choose a new path")
    options = LoadOptions(allow_pickle=allow_pickle, trusted_types=tuple(trusted_types or ()))
    archive = destination.name.lower().endswith(ARCHIVE_SUFFIXES)
    with (
        local_copy(source, _client_for(ctx, source)) as folder,
        tempfile.TemporaryDirectory(prefix="heron-convert-") as temp,
    ):
        target = Path(temp) / "model" if archive else destination
        if is_mlflow_dir(folder):
            manifest = convert_mlflow(folder, target, options)
        else:
            manifest = read_any_manifest(folder)
            verify_files(folder, manifest)
            if not archive:
                raise InvalidArgument(
                    f"{source} is already a Heron model; give an archive name to pack it"
                )
            shutil.copytree(folder, target)
        if archive:
            destination.parent.mkdir(parents=True, exist_ok=True)
            pack(target, destination)
    flavors = ", ".join(manifest.flavors)
    typer.echo(f"Wrote {destination} ({flavors}; {summary(manifest.signature)})")
