"""Every snippet in docs/model-format.md runs, and its example manifest is valid."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from heron.models.manifest import parse_manifest
from heron.models.signature import summary
from model_extras import require

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "model-format.md").read_text()
BIN = Path(sys.executable).parent


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC, flags=re.S)


@pytest.mark.slow
def test_python_snippets_then_commands_run_in_order(tmp_path: Path) -> None:
    require("skops", "sklearn")
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    env.pop("HERON_TRACKING_URI", None)
    outputs = []
    for index, snippet in enumerate(blocks("python")):
        script = tmp_path / f"snippet_{index}.py"
        script.write_text(snippet)
        done = subprocess.run(
            [sys.executable, str(script)], cwd=tmp_path, env=env,
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"snippet {index} failed:\n{snippet}\n{done.stderr}"
        outputs.append(done.stdout)
    # What the comments in the snippets say they print.
    assert outputs[0].startswith("runs:/")
    assert "(amount: double, count: long) -> float64[-1]" in outputs[1]
    assert "column 'count' expects long (int64), got float64" in outputs[1]
    assert outputs[2].strip() == "[2]"
    (commands,) = blocks("bash")
    for line in commands.strip().splitlines():
        done = subprocess.run(
            shlex.split(line), cwd=tmp_path, env=env,
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
    assert (tmp_path / "env" / "requirements.txt").exists()
    assert (tmp_path / "fraud-model.tar.gz").exists()


def test_the_example_manifest_is_a_valid_manifest() -> None:
    (example,) = blocks("yaml")
    manifest = parse_manifest(yaml.safe_load(example), "docs")

    assert manifest.primary_flavor == "sklearn"
    assert summary(manifest.signature) == "(float64[-1, 3]) -> int64[-1]"
    assert set(manifest.files) == {
        "input_example.json", "model.skops", "python_env.yaml", "requirements.txt"
    }  # fmt: skip
