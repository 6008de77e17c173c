"""Every command and snippet in the README runs (docs that run)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
BIN = Path(sys.executable).parent


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    environment.pop("HERON_TRACKING_URI", None)
    return environment


def test_python_snippets_run_in_order(tmp_path: Path, env: dict[str, str]) -> None:
    """The snippets share one embedded store in ./.heron, as a user running them would."""
    for index, snippet in enumerate(blocks("python")):
        script = tmp_path / f"snippet_{index}.py"
        script.write_text(snippet)
        result = run([sys.executable, str(script)], tmp_path, env)
        assert result.returncode == 0, f"snippet {index} failed:\n{snippet}\n{result.stderr}"
    assert (tmp_path / ".heron" / "heron.db").exists()


def test_cli_commands(tmp_path: Path, env: dict[str, str]) -> None:
    setup = (
        "import heron\nheron.set_experiment('fraud')\nwith heron.start_run():\n"
        "    heron.log_metric('auc', 0.95)\n"
    )
    assert run([sys.executable, "-c", setup], tmp_path, env).returncode == 0
    (command_block,) = [b for b in blocks("bash") if "heron experiments" in b]
    for line in command_block.strip().splitlines():
        result = run(shlex.split(line), tmp_path, env)
        assert result.returncode == 0, f"{line}\n{result.stdout}\n{result.stderr}"
        if "--json" in line:
            assert '"metrics"' in result.stdout or "auc" in result.stdout


def test_registry_commands(tmp_path: Path, env: dict[str, str]) -> None:
    """The `heron models` block, after the Python snippets registered fraud-detector."""
    for index, snippet in enumerate(blocks("python")):
        script = tmp_path / f"snippet_{index}.py"
        script.write_text(snippet)
        assert run([sys.executable, str(script)], tmp_path, env).returncode == 0
    (command_block,) = [b for b in blocks("bash") if "heron models" in b]
    for line in command_block.strip().splitlines():
        result = run(shlex.split(line), tmp_path, env)
        assert result.returncode == 0, f"{line}\n{result.stdout}\n{result.stderr}"
        assert result.stdout.strip()
        assert not result.stdout.startswith("No ")  # each command found what it asked for


def test_syntax_error_example_is_what_heron_prints() -> None:
    from heron.errors import SearchSyntaxError
    from heron.search import parse_filter

    (example,) = blocks("text")
    with pytest.raises(SearchSyntaxError) as error:
        parse_filter("metrics.auc > 0.9 and (params.penalty = 'l2'")
    assert f"{type(error.value).__module__}.SearchSyntaxError: {error.value}" == example.strip()


@pytest.mark.slow
def test_make_demo(tmp_path: Path, env: dict[str, str]) -> None:
    """`make demo` (the README's first command) on an installed checkout, tracking into tmp."""
    # The demo ends by serving the UI until Ctrl-C; the UI has tests of its own.
    env = {**env, "HERON_TRACKING_URI": str(tmp_path / "demo"), "HERON_DEMO_NO_UI": "1"}
    result = run(["make", "-s", "demo"], ROOT, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "8 runs logged" in result.stdout
    assert "lr-" in result.stdout.split("8 runs logged")[1]
    assert "demo-classifier version 1 is champion" in result.stdout
    # The lineage tree printed last: champion <- best run <- the training data.
    assert "demo-classifier v1 @champion" in result.stdout
    assert "dataset breast-cancer" in result.stdout


def test_server_commands(tmp_path: Path, env: dict[str, str]) -> None:
    """The server block: start the server, track to it from a script, list, sync."""
    import time

    import httpx

    from live_server import free_port

    (block,) = [b for b in blocks("bash") if "heron server" in b]
    lines = block.strip().splitlines()
    port = str(free_port())  # the README's 5000 may be taken on a shared machine
    server_line = lines[0].removesuffix("&").strip().replace("5000", port)
    (tmp_path / "train.py").write_text(
        "import heron\nheron.set_experiment('fraud')\nwith heron.start_run():\n"
        "    heron.log_metric('auc', 0.97)\n"
    )
    server = subprocess.Popen(
        shlex.split(server_line), cwd=tmp_path, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = lines[1].split("=", 1)[1].replace("5000", port)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        client_env = {**env, "HERON_TRACKING_URI": url, "HERON_SPOOL_DIR": str(tmp_path / "s")}
        for line in lines[2:]:
            result = run(shlex.split(line), tmp_path, client_env)
            assert result.returncode == 0, f"{line}\n{result.stdout}\n{result.stderr}"
            if line.startswith("heron runs list"):
                assert "0.97" in result.stdout
        assert (tmp_path / "server" / "heron.db").exists()
    finally:
        server.terminate()
        server.wait(timeout=30)
