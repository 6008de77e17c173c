"""Safe loading: tampered or added files, unsafe archives, and manifests that try to
make the loader import or trust something are all refused before anything runs."""

from __future__ import annotations

import io
import operator
import os
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml

import heron
from heron.errors import DataCorrupted, InvalidArgument, NotFound, PermissionDenied
from heron.models import MANIFEST_FILE, pack, read_manifest
from model_extras import require

require("skops", "sklearn")
from sklearn.linear_model import LinearRegression  # noqa: E402
from sklearn.preprocessing import FunctionTransformer  # noqa: E402

FEATURES = np.arange(12, dtype="float64").reshape(4, 3)


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    model = LinearRegression().fit(FEATURES, [1.0, 2.0, 3.0, 4.0])
    heron.sklearn.save_model(model, tmp_path / "model", input_example=FEATURES[:2])
    return tmp_path / "model"


def _edit_manifest(model_dir: Path, change: dict[str, object]) -> None:
    path = model_dir / MANIFEST_FILE
    raw = yaml.safe_load(path.read_text())
    for dotted, value in change.items():
        *parents, last = dotted.split(".")
        target = raw
        for key in parents:
            target = target[key]
        target[last] = value
    path.write_text(yaml.safe_dump(raw, sort_keys=False))


def test_a_changed_file_is_refused(model_dir: Path) -> None:
    data = model_dir / "model.skops"
    content = bytearray(data.read_bytes())
    content[len(content) // 2] ^= 0xFF
    data.write_bytes(bytes(content))

    with pytest.raises(DataCorrupted, match=r"'model.skops'.*does not match the SHA-256"):
        heron.models.load(model_dir)


def test_an_added_or_removed_file_is_refused(model_dir: Path) -> None:
    (model_dir / "evil.py").write_text("import os")
    with pytest.raises(DataCorrupted, match=r"does not list: \['evil.py'\]"):
        heron.models.load(model_dir)
    (model_dir / "evil.py").unlink()
    (model_dir / "requirements.txt").unlink()
    with pytest.raises(DataCorrupted, match=r"is missing 'requirements.txt'"):
        heron.models.load(model_dir)


def test_a_symlink_in_a_model_folder_is_refused(model_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("x")
    os.symlink(tmp_path / "secret", model_dir / "link")

    with pytest.raises(InvalidArgument, match="may not hold symlinks: 'link'"):
        heron.models.load(model_dir)


def test_manifest_cannot_name_a_module_or_method_to_run(model_dir: Path) -> None:
    _edit_manifest(model_dir, {"flavors": {"os.system": {}}})
    with pytest.raises(InvalidArgument, match=r"unknown model flavor 'os.system'"):
        heron.models.load(model_dir)

    _edit_manifest(model_dir, {"flavors": {"pyfunc": {"python_class": "os:system"}}})
    with pytest.raises(PermissionDenied, match="'os:system', which is not in the model's code/"):
        heron.models.load(model_dir)

    _edit_manifest(
        model_dir,
        {"flavors": {"sklearn": {"data": "model.skops", "predict_method": "__reduce__"}}},
    )
    with pytest.raises(PermissionDenied, match="predict_method '__reduce__' is not allowed"):
        heron.models.load(model_dir)

    _edit_manifest(
        model_dir, {"flavors": {"sklearn": {"data": "../../etc/passwd", "serialization": "skops"}}}
    )
    with pytest.raises(InvalidArgument, match="missing from"):
        heron.models.load(model_dir)


def test_manifest_cannot_trust_types_or_allow_pickle(tmp_path: Path) -> None:
    # operator.neg is a function: skops does not trust it, and neither does Heron's list.
    transformer = FunctionTransformer(operator.neg).fit(FEATURES)
    heron.sklearn.save_model(transformer, tmp_path / "f", predict_method="transform")
    _edit_manifest(tmp_path / "f", {"flavors.sklearn.trusted_types": ["_operator.neg"]})

    with pytest.raises(PermissionDenied, match=r"not trusted: \['_operator.neg'\].*trusted_types"):
        heron.models.load(tmp_path / "f")
    model = heron.models.load(tmp_path / "f", trusted_types=["_operator.neg"])
    np.testing.assert_allclose(model.predict(FEATURES), -FEATURES)

    heron.sklearn.save_model(LinearRegression().fit(FEATURES, [1, 2, 3, 4]), tmp_path / "p",
                             serialization="pickle")  # fmt: skip
    _edit_manifest(tmp_path / "p", {"flavors.sklearn.allow_pickle": True})
    with pytest.raises(PermissionDenied, match="allow_pickle=True"):
        heron.models.load(tmp_path / "p")


def test_newer_and_foreign_manifests_are_refused_with_a_clear_message(model_dir: Path) -> None:
    _edit_manifest(model_dir, {"format_version": 99})
    with pytest.raises(InvalidArgument, match="model format 99, newer than this Heron reads"):
        read_manifest(model_dir)
    (model_dir / MANIFEST_FILE).write_text("name: not a manifest\n")
    with pytest.raises(InvalidArgument, match="not a Heron model manifest"):
        heron.models.load(model_dir)
    (model_dir / MANIFEST_FILE).unlink()
    with pytest.raises(NotFound, match=r"is not a Heron model: it has no heron-model.yaml"):
        heron.models.load(model_dir)


@pytest.mark.parametrize("suffix", [".tar.gz", ".zip"])
def test_archives_round_trip(model_dir: Path, tmp_path: Path, suffix: str) -> None:
    archive = pack(model_dir, tmp_path / f"model{suffix}")

    model = heron.models.load(archive)

    assert model.predict(FEATURES).shape == (4,)


def _tar_with(tmp_path: Path, model_dir: Path, add: tarfile.TarInfo) -> Path:
    archive = tmp_path / "bad.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in model_dir.iterdir():
            tar.add(path, path.name)
        tar.addfile(add, io.BytesIO(b"x" * add.size) if add.isfile() else None)
    return archive


@pytest.mark.parametrize(
    ("name", "kind", "message"),
    [
        ("../escape.txt", tarfile.REGTYPE, "entry leaving its folder: '../escape.txt'"),
        ("/tmp/abs.txt", tarfile.REGTYPE, "absolute path entry '/tmp/abs.txt'"),
        ("link", tarfile.SYMTYPE, "link or special file 'link'"),
        ("hard", tarfile.LNKTYPE, "link or special file 'hard'"),
    ],
)
def test_unsafe_tar_entries_are_refused_before_anything_is_written(
    model_dir: Path, tmp_path: Path, name: str, kind: bytes, message: str
) -> None:
    entry = tarfile.TarInfo(name)
    entry.type = kind
    entry.size = 1 if kind == tarfile.REGTYPE else 0
    entry.linkname = "/etc/passwd"
    archive = _tar_with(tmp_path, model_dir, entry)

    with pytest.raises(PermissionDenied, match=message):
        heron.models.load(archive)
    assert not (tmp_path.parent / "escape.txt").exists()


@pytest.mark.parametrize(
    ("name", "message"),
    [("../escape.txt", "leaving its folder"), ("/abs.txt", "absolute path entry")],
)
def test_unsafe_zip_entries_are_refused(
    model_dir: Path, tmp_path: Path, name: str, message: str
) -> None:
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as package:
        for path in model_dir.iterdir():
            package.write(path, path.name)
        package.writestr(name, "x")

    with pytest.raises(PermissionDenied, match=message):
        heron.models.load(archive)


def test_zip_symlink_entries_are_refused(model_dir: Path, tmp_path: Path) -> None:
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as package:
        link = zipfile.ZipInfo("link")
        link.external_attr = 0o120777 << 16
        package.writestr(link, "/etc/passwd")

    with pytest.raises(PermissionDenied, match="link or special file 'link'"):
        heron.models.load(archive)


def test_a_corrupt_archive_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "m.tar.gz").write_bytes(b"not a tar")
    (tmp_path / "m.zip").write_bytes(b"not a zip")

    with pytest.raises(InvalidArgument, match="not a readable tar archive"):
        heron.models.load(tmp_path / "m.tar.gz")
    with pytest.raises(InvalidArgument, match="not a readable zip archive"):
        heron.models.load(tmp_path / "m.zip")
