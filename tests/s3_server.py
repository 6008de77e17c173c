"""moto's standalone S3 server in a subprocess, on a free port of 127.0.0.1.

A subprocess rather than moto's ThreadedMotoServer: the objects moto keeps in memory then stay
out of the test process, so memory bounds measured with tracemalloc see only Heron's client,
and moto's own warnings never meet pytest's filterwarnings=error.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

START_TIMEOUT = 30.0
ATTEMPTS = 3  # another process may take the free port between choosing and binding it


# Straight to 127.0.0.1 even where HTTP(S)_PROXY is set for the outside world.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class MotoS3Server:
    """A running moto server; ``stop()`` it when done."""

    def __init__(self) -> None:
        last_error = "never started"
        for _ in range(ATTEMPTS):
            self.port = _free_port()
            self.endpoint_url = f"http://127.0.0.1:{self.port}"
            self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives until stop()
            self._process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=self._log,
                stderr=subprocess.STDOUT,
            )
            if self._wait_until_ready():
                return
            last_error = self._output()
            self.stop()
        raise RuntimeError(f"moto's S3 server did not start: {last_error}")

    def _wait_until_ready(self) -> bool:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            try:
                with _DIRECT.open(f"{self.endpoint_url}/moto-api/", timeout=1):
                    return True
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
        return False

    def _output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-2000:] or "no output"

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._log.close()

    def storage_options(self) -> dict[str, Any]:
        """fsspec/s3fs options naming this server and its (arbitrary) credentials explicitly."""
        return {
            "key": "heron-test",
            "secret": "heron-test-secret",
            "client_kwargs": {"endpoint_url": self.endpoint_url, "region_name": "us-east-1"},
        }

    def environment(self) -> dict[str, str]:
        """The same configuration as the standard AWS environment variables."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "heron-test",
            "AWS_SECRET_ACCESS_KEY": "heron-test-secret",
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def create_bucket(self) -> str:
        """A new, empty bucket with a unique name."""
        name = f"heron-{uuid.uuid4().hex[:16]}"
        # moto does not check signatures, so a plain HTTP request needs no AWS client here.
        self._request("PUT", f"/{name}")
        return name

    def reset(self) -> None:
        """Forget every bucket and object (moto keeps them in memory).

        For per-test teardown: it would also wipe buckets that other fixtures share.
        """
        self._request("POST", "/moto-api/reset")

    def _request(self, method: str, path: str) -> None:
        request = urllib.request.Request(f"{self.endpoint_url}{path}", method=method)
        with _DIRECT.open(request, timeout=10):
            pass
