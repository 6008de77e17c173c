"""Writing a model directory: the steps every flavor's ``save_model`` shares.

A flavor writes its own data files, then calls ``finish`` to add the input example,
the signature (inferred from the example when not given), the environment files and
the manifest with the hash of every file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import heron
from heron.errors import AlreadyExists, InvalidArgument
from heron.models import environment
from heron.models.example import write_example
from heron.models.manifest import Manifest, hash_directory, now_iso, write_manifest
from heron.models.signature import Signature, infer_schema

REQUIREMENTS_FILE = "requirements.txt"
PYTHON_ENV_FILE = "python_env.yaml"


def prepare_directory(path: str | Path) -> Path:
    """The model's folder, created; refuses a folder that already holds files."""
    directory = Path(path)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise AlreadyExists(f"{directory} already exists and is not empty; choose a new path")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def finish(
    directory: Path,
    *,
    flavor: str,
    config: Mapping[str, Any],
    packages: Iterable[str],
    predict: Callable[[Any], Any] | None,
    signature: Signature | None,
    input_example: Any,
    metadata: Mapping[str, Any] | None,
    code_files: Iterable[Path] = (),
    extra_requirements: Iterable[str] = (),
) -> Manifest:
    example_file = None
    if input_example is not None:
        example_file = write_example(input_example, directory)
        if signature is None:
            outputs = None
            if predict is not None:
                try:
                    outputs = infer_schema(predict(input_example))
                except InvalidArgument:
                    outputs = None  # an output we cannot type is left out, not fatal
            signature = Signature(inputs=infer_schema(input_example), outputs=outputs)
    env = environment.capture(packages, code_files, extra_requirements)
    (directory / REQUIREMENTS_FILE).write_text(environment.requirements_txt(env))
    (directory / PYTHON_ENV_FILE).write_text(environment.python_env_yaml(env))
    manifest = Manifest(
        flavors={flavor: dict(config)},
        files=hash_directory(directory),
        signature=signature,
        input_example=example_file,
        environment=env,
        metadata=dict(metadata or {}),
        created_at=now_iso(),
        heron_version=heron.__version__,
    )
    write_manifest(directory, manifest)
    return manifest
