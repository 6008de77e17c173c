"""Turning a model URI into a local folder.

Handled: a local folder or archive, ``file://``, ``runs:/<run_id>/<path>`` (downloaded
through ``heron.Client``) and ``models:/...`` (resolved by the registry to one of the
others, in ``resolve_registry_uri`` only).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

from heron.client import Client
from heron.errors import InvalidArgument, NotFound
from heron.models.archive import is_archive, unpack


def resolve_registry_uri(uri: str, client: Client) -> str:
    """The ``runs:/`` (or other) URI of a registered version's files: the registry's
    answer, asked in this one place."""
    return client.resolve_model_uri(uri)


def local_model_dir(uri: str | Path, client: Client | None, scratch: list[Path]) -> Path:
    """A local folder holding the model. Temporary folders made are appended to ``scratch``."""
    text = str(uri)
    if text.startswith("models:/"):
        with _ClientScope(client) as active:
            text = resolve_registry_uri(text, active)
            return local_model_dir(text, active, scratch)
    if text.startswith("runs:/"):
        run_id, _, path = text.removeprefix("runs:/").strip("/").partition("/")
        if not run_id:
            raise InvalidArgument(f"model URI {text!r} has no run id: use runs:/<run_id>/<path>")
        target = Path(tempfile.mkdtemp(prefix="heron-model-"))
        scratch.append(target)
        with _ClientScope(client) as active:
            folder = active.download_artifacts(run_id, path, target)
        return _unpacked(folder, scratch)
    if text.startswith("file:"):
        text = unquote(urlparse(text).path)
    elif "://" in text:
        raise InvalidArgument(
            f"unsupported model URI {text!r}: use a path, file://, runs:/ or models:/"
        )
    folder = Path(text).expanduser()
    if not folder.exists():
        raise NotFound(f"no model at {text!r}")
    return _unpacked(folder, scratch)


def _unpacked(path: Path, scratch: list[Path]) -> Path:
    if not is_archive(path):
        return path
    target = Path(tempfile.mkdtemp(prefix="heron-model-"))
    scratch.append(target)
    unpack(path, target)
    return target


class _ClientScope:
    """The given client, or one opened on the current tracking URI and closed after."""

    def __init__(self, client: Client | None) -> None:
        self._given = client
        self._opened: Client | None = None

    def __enter__(self) -> Client:
        if self._given is not None:
            return self._given
        import heron

        self._opened = Client(heron.get_tracking_uri())
        return self._opened

    def __exit__(self, *_: object) -> None:
        if self._opened is not None:
            self._opened.close()
