"""A real `heron server` in a subprocess on a free port, that tests can kill and restart."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

HERON = str(Path(sys.executable).parent / "heron")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    def __init__(self, folder: Path, workers: int = 1, extra_args: Sequence[str] = ()) -> None:
        """``extra_args`` go after the defaults, so they may override them."""
        self.folder = folder
        self.workers = workers
        self.extra_args = list(extra_args)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        command = [
            HERON, "server", "--backend-store-uri", f"sqlite:///{self.folder / 'heron.db'}",
            "--artifacts-destination", str(self.folder / "artifacts"),
            "--port", str(self.port), "--workers", str(self.workers), *self.extra_args,
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # so that kill() reaches uvicorn's worker processes too
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/ready", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"heron server exited with {self.process.returncode}")
            time.sleep(0.1)
        raise RuntimeError(f"heron server not ready on {self.url} after {timeout} s")

    def kill(self) -> None:
        """SIGKILL, as a crash: no graceful shutdown, requests in flight are cut."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None
