"""Where tracking data goes: the argument, HERON_TRACKING_URI, or ./.heron/."""

from __future__ import annotations

from pathlib import Path

import pytest

from heron.client.config import resolve
from heron.errors import InvalidArgument


def test_default_is_dot_heron_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HERON_TRACKING_URI", raising=False)
    monkeypatch.delenv("HERON_ARTIFACT_ROOT", raising=False)
    config = resolve()
    assert config.store_uri == f"sqlite:///{tmp_path / '.heron' / 'heron.db'}"
    assert config.artifact_root == str(tmp_path / ".heron" / "artifacts")


def test_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERON_TRACKING_URI", f"sqlite:///{tmp_path}/x/track.db")
    config = resolve()
    assert config.store_uri == f"sqlite:///{tmp_path / 'x' / 'track.db'}"
    assert config.artifact_root == str(tmp_path / "x" / "artifacts")
    assert resolve(str(tmp_path / "folder")).store_uri.endswith("folder/heron.db")


def test_postgres_and_artifact_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERON_ARTIFACT_ROOT", "s3://bucket/heron")
    config = resolve("postgres://postgres@127.0.0.1/test")
    assert config.store_uri == "postgresql://postgres@127.0.0.1/test"
    assert config.artifact_root == "s3://bucket/heron"


@pytest.mark.parametrize("uri", ["mysql://x/y", "sqlite://", "http://localhost:5000"])
def test_unsupported_uris(uri: str) -> None:
    with pytest.raises(InvalidArgument):
        resolve(uri)
