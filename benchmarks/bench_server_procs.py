"""Server processes for the server benchmark: start, wait until ready, measure memory, stop.

Also the PostgreSQL databases of the run (created fresh, dropped at the end).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url

from bench_server_common import process_tree


class ServerError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """A server started in a session of its own, so that stopping it reaches its workers."""

    def __init__(
        self, name: str, command: list[str], ready_path: str, port: int, log: Path, env: dict
    ) -> None:
        self.name = name
        self.url = f"http://127.0.0.1:{port}"
        self._ready_url = self.url + ready_path
        self.log_path = log
        self._log: IO[str] = log.open("w")
        self.proc = subprocess.Popen(
            command,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=log.parent,
            env=env,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                raise ServerError(f"{self.name} server exited ({code}):\n{self.tail()}")
            try:
                with urllib.request.urlopen(self._ready_url, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.25)
        raise ServerError(f"{self.name} server not ready after {timeout:.0f} s:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def pids(self) -> list[int]:
        """The server process and all its descendants (uvicorn's worker processes)."""
        return process_tree(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)  # the group this server leads
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()


def _status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler:
    """The resident memory of a server's process tree while something streams through it.

    Each process's high-water mark (VmHWM) is reset at the start (``clear_refs``), so the
    kernel itself records the peak and no spike is missed between samples; a sampled
    total every ``interval`` seconds is kept as a cross-check.
    """

    def __init__(self, server: Server, interval: float = 0.02) -> None:
        self.pids = server.pids()
        self._interval = interval
        self._stop = threading.Event()
        self._before = {pid: _status_kib(pid, "VmRSS") for pid in self.pids}
        self.hwm_reset = all(_reset_hwm(pid) for pid in self.pids)
        self.sampled_peak = self.total()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def total(self) -> int:
        return sum(_status_kib(pid, "VmRSS") for pid in self.pids)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.sampled_peak = max(self.sampled_peak, self.total())

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def result(self) -> dict[str, float | bool]:
        before = sum(self._before.values())
        # Peak: every process at its own high-water mark at once, an upper bound that is
        # exact when one worker does the streaming (the others stay flat).
        growth = sum(max(0, _status_kib(p, "VmHWM") - rss) for p, rss in self._before.items())
        peak = max(self.sampled_peak, before + growth) if self.hwm_reset else self.sampled_peak
        return {
            "processes": len(self.pids),
            "before_mib": before / 1024,
            "peak_mib": peak / 1024,
            "sampled_peak_mib": self.sampled_peak / 1024,
            "after_mib": self.total() / 1024,
            "hwm_reset": self.hwm_reset,
        }


def _reset_hwm(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # 5: reset the peak RSS (Linux 4.0+)
    except OSError:
        return False
    return True


def recreate_database(admin_url: str, name: str) -> str:
    """A fresh, empty database ``name`` on the server of ``admin_url``; its URL."""
    import psycopg

    try:
        with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        raise ServerError(f"cannot create the database {name} through {admin_url}: {exc}") from exc
    url = make_url(admin_url).set(drivername="postgresql", database=name)
    return url.render_as_string(hide_password=False)


def drop_database(admin_url: str, name: str) -> None:
    """Drop ``name`` if it exists; quietly, so that a failed run still cleans up what it can."""
    import psycopg

    with (
        contextlib.suppress(psycopg.Error),
        psycopg.connect(_libpq(admin_url), autocommit=True) as conn,
    ):
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def analyze(url: str) -> None:
    """Refresh PostgreSQL's planner statistics after a bulk load, as autovacuum would in
    a database in use; without them, lookups by run id fall back to sequential scans."""
    import psycopg

    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute("ANALYZE")


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
