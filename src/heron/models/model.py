"""``heron.models.load`` and the loaded ``Model``: one predict interface for every flavor."""

from __future__ import annotations

import shutil
import weakref
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from heron.client import Client
from heron.models import environment
from heron.models.enforce import input_converter, params_converter
from heron.models.example import read_example
from heron.models.flavors import LoadOptions, flavor
from heron.models.manifest import MANIFEST_FILE, Manifest, read_manifest, verify_files
from heron.models.signature import Signature
from heron.models.uri import local_model_dir

MLFLOW_MODEL_FILE = "MLmodel"


class Model:
    """A loaded model: ``predict`` checks input against the signature, then calls the flavor.

    ``native`` is the flavor's own object (a scikit-learn estimator, an xgboost
    Booster, a torch module, ...).
    """

    def __init__(self, path: Path, manifest: Manifest, native: Any, options: LoadOptions) -> None:
        self.path = path
        self.manifest = manifest
        self.native = native
        self._options = options
        config = manifest.flavors[manifest.primary_flavor]
        self._predict_fn = flavor(manifest.primary_flavor).predictor(native, config)
        signature = manifest.signature
        self._convert = input_converter(signature.inputs if signature else None)
        self._params = params_converter(signature.params if signature else ())

    def predict(self, data: Any, params: Mapping[str, Any] | None = None) -> Any:
        """Predict on a DataFrame, numpy array, dict of columns or list of records.

        Raises ``InvalidArgument`` naming the column and expected type when the input
        does not fit the signature.
        """
        return self._predict_fn(self._convert(data), self._params(params))

    def check_input(self, data: Any) -> Any:
        """``data`` checked and converted against the signature, as ``predict`` passes it
        to the flavor (for callers that predict with the native object themselves)."""
        return self._convert(data)

    @property
    def signature(self) -> Signature | None:
        return self.manifest.signature

    @property
    def metadata(self) -> dict[str, Any]:
        return self.manifest.metadata

    @property
    def environment(self) -> dict[str, Any]:
        return self.manifest.environment

    @property
    def flavor(self) -> str:
        return self.manifest.primary_flavor

    @property
    def flavors(self) -> list[str]:
        return list(self.manifest.flavors)

    @property
    def input_example(self) -> Any:
        if self.manifest.input_example is None:
            return None
        return read_example(self.path / self.manifest.input_example)

    def __repr__(self) -> str:
        return f"<heron Model {self.flavor} at {self.path}>"


def load(
    model_uri: str | Path,
    *,
    allow_pickle: bool = False,
    trusted_types: Iterable[str] = (),
    client: Client | None = None,
    flavor_name: str | None = None,
) -> Model:
    """Load a model from a path, archive, ``file://``, ``runs:/`` or ``models:/`` URI.

    Heron model directories are verified against their manifest's hashes before any
    file is deserialized. MLflow model directories (with an ``MLmodel`` file) load too.
    ``allow_pickle`` and ``trusted_types`` are the caller's trust, never the manifest's.
    """
    options = LoadOptions(allow_pickle=allow_pickle, trusted_types=tuple(trusted_types))
    scratch: list[Path] = []
    try:
        folder = local_model_dir(model_uri, client, scratch)
        model = _load_folder(folder, options, str(model_uri), flavor_name)
    except BaseException:
        _remove(scratch)
        raise
    if scratch:
        # Downloaded copies live as long as the model: pyfunc artifacts are read from them.
        weakref.finalize(model, _remove, scratch)
    return model


def is_mlflow_dir(folder: Path) -> bool:
    return not (folder / MANIFEST_FILE).is_file() and (folder / MLFLOW_MODEL_FILE).is_file()


def read_any_manifest(folder: Path) -> Manifest:
    """The manifest of a Heron model folder, or one read off an MLflow ``MLmodel``."""
    if is_mlflow_dir(folder):
        from heron.models.mlflow_dir import read_mlflow_manifest

        return read_mlflow_manifest(folder)
    return read_manifest(folder)


@contextmanager
def local_copy(model_uri: str | Path, client: Client | None = None) -> Iterator[Path]:
    """A local folder with the model's files, for as long as the ``with`` block runs."""
    scratch: list[Path] = []
    try:
        yield local_model_dir(model_uri, client, scratch)
    finally:
        _remove(scratch)


def _load_folder(folder: Path, options: LoadOptions, where: str, flavor_name: str | None) -> Model:
    manifest = read_any_manifest(folder)
    if not is_mlflow_dir(folder):
        verify_files(folder, manifest)
    if flavor_name is not None:
        manifest = manifest.with_primary(flavor_name)
    environment.warn_on_differences(manifest.environment, where)
    name = manifest.primary_flavor
    native = flavor(name).load_native(folder, manifest.flavors[name], options)
    return Model(folder, manifest, native, options)


def load_native(model_uri: str | Path, flavor_name: str, **kwargs: Any) -> Any:
    """The flavor's own object (what ``heron.sklearn.load_model`` and friends return)."""
    return load(model_uri, flavor_name=flavor_name, **kwargs).native


def _remove(folders: list[Path]) -> None:
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
