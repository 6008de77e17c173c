"""The server benchmark's own workloads, shared by the Heron and the MLflow server workers.

Imported by both workers, each in its own virtualenv: standard library only (SQLAlchemy,
which both products ship, is imported where rows are seeded). The workloads (a) to (d)
are bench_common's, unchanged; this adds (e) the history of one long metric, (f) many
writer processes at once, and the worker loop that serves both kinds of command.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any, Protocol

from bench_common import Point, Progress, Side, now_ms, summary, timed
from bench_protocol import protocol_stream, run_command

HISTORY_KEY = "hist"
BLOCK = 1000  # points per log_batch call: MLflow's maximum per request
HISTORY_T0 = 1_700_000_000_000  # fixed, so that both products store the very same points
CONFIG_ENV = "BENCH_SERVER_CONFIG"  # JSON: server URL, database URL for seeding, ...


class ServerSide(Side, Protocol):
    """What the server workloads need beyond bench_common's ``Side``."""

    def fetch_history(self, run_id: str, key: str) -> Any: ...
    def history_pairs(self, fetched: Any) -> list[tuple[int, float]]: ...


def server_config() -> dict[str, Any]:
    config: dict[str, Any] = json.loads(os.environ[CONFIG_ENV])
    return config


# -- (e) metric history -------------------------------------------------------------------


def history_value(step: int) -> float:
    """A noisy decaying curve with spikes: what a chart has to keep."""
    spike = 0.5 if step % 9973 == 0 else 0.0
    return 1.0 / (1.0 + step * 1e-5) + 0.01 * math.sin(step * 0.37) + spike


def history_block(number: int) -> list[Point]:
    first = number * BLOCK
    return [(HISTORY_KEY, history_value(s), HISTORY_T0 + s, s) for s in range(first, first + BLOCK)]


def seed_history(side: ServerSide, points: int, progress: Progress) -> dict[str, Any]:
    """One run holding ``points`` points of one metric (not timed).

    The first and the last 1,000 go through the product's API, so its own bookkeeping
    (latest value, ...) is right; the blocks in between are copies of the first block's
    rows, in whatever table the product wrote them, with each point's step and value.
    """
    blocks = points // BLOCK
    experiment = side.new_experiment("bench-history")
    run_id = side.new_run(experiment, "history")
    side.log_metric_entities(run_id, side.metric_entities(history_block(0)))
    url, run_column = side.seed_target()
    _clone_history(url, run_column, run_id, blocks, progress)
    if blocks > 1:
        side.log_metric_entities(run_id, side.metric_entities(history_block(blocks - 1)))
    progress(blocks, blocks)
    return {"run_id": run_id, "points": blocks * BLOCK}


def _clone_history(url: str, run_column: str, run_id: str, blocks: int, progress: Progress) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    table = sa.Table("metrics", sa.MetaData(), autoload_with=engine)
    if run_column in table.c:
        where = (table.c[run_column] == run_id) & (table.c.key == HISTORY_KEY)
    else:  # Heron: history rows name their (run, key) series by its id in metric_series
        series = sa.Table("metric_series", sa.MetaData(), autoload_with=engine)
        with engine.connect() as conn:
            series_id = conn.execute(
                sa.select(series.c.series_id).where(
                    (series.c[run_column] == run_id) & (series.c.key == HISTORY_KEY)
                )
            ).scalar_one()
        where = table.c.series_id == series_id
    pk = list(table.primary_key.columns)
    surrogate = pk[0].name if len(pk) == 1 and pk[0].name != run_column else None
    columns = [c.name for c in table.columns if c.name != surrogate]
    with engine.begin() as conn:
        template = [r._mapping for r in conn.execute(table.select().where(where))]
    if len(template) != BLOCK:
        raise RuntimeError(f"expected {BLOCK} template rows, found {len(template)}")
    varying = {"step", "timestamp", "value"}
    fixed = [[None if c in varying else row[c] for c in columns] for row in template]
    at = {c: columns.index(c) for c in varying}
    # Bulk loading through the driver: COPY on PostgreSQL, executemany on SQLite.
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        names = ", ".join(columns)
        postgres = engine.dialect.name == "postgresql"
        per_commit = 50
        for first in range(1, blocks - 1, per_commit):
            rows = []
            for number in range(first, min(first + per_commit, blocks - 1)):
                for template_row, values in zip(template, fixed, strict=True):
                    step = template_row["step"] + number * BLOCK
                    row = list(values)
                    row[at["step"]], row[at["timestamp"]] = step, HISTORY_T0 + step
                    row[at["value"]] = history_value(step)
                    rows.append(row)
            if postgres:
                with cursor.copy(f"COPY metrics ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in columns)
                cursor.executemany(f"INSERT INTO metrics ({names}) VALUES ({marks})", rows)
            raw.commit()
            progress(first + per_commit, blocks)
    finally:
        raw.close()
        engine.dispose()


def history_digest(pairs: list[tuple[int, float]]) -> str:
    digest = hashlib.sha256()
    for step, value in pairs:
        digest.update(f"{step}:{value!r};".encode())
    return digest.hexdigest()


def bench_history(
    side: ServerSide, run_id: str, points: int, repeats: int, progress: Progress
) -> dict[str, Any]:
    """Every point of the series, paged by the official client (25,000 a page on both)."""
    seconds = []
    fetched: Any = None
    for r in range(repeats):

        def fetch() -> None:
            nonlocal fetched
            fetched = None  # the previous copy must not double the peak memory
            fetched = side.fetch_history(run_id, HISTORY_KEY)

        seconds.append(timed(fetch))
        progress(r + 1, repeats)
    pairs = side.history_pairs(fetched)
    if [s for s, _ in pairs] != list(range(points)):
        raise RuntimeError(f"history: {len(pairs)} points, not the {points} steps in order")
    return summary("points/s", points, seconds, digest=history_digest(pairs))


# -- (f) concurrent writers ----------------------------------------------------------------


class WriterPool:
    """``count`` writer processes, started once, each with its own run; any first ``n`` of
    them log together for a fixed time when told to, from a common start instant."""

    def __init__(self, script: str, count: int, experiment_id: str) -> None:
        env = dict(os.environ, BENCH_WRITER_EXPERIMENT=experiment_id)
        self.procs = [
            subprocess.Popen(
                [sys.executable, script, "writer", str(i)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env=env,
            )
            for i in range(count)
        ]
        for i in range(count):
            self._read(i)  # "ready": imported, run created, warmed up

    def _read(self, i: int) -> dict[str, Any]:
        stdout = self.procs[i].stdout
        assert stdout is not None
        line = stdout.readline()
        if not line:
            raise RuntimeError(f"writer {i} exited ({self.procs[i].wait()})")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"writer {i}: {answer['error']}")
        return answer

    def run(self, n: int, mode: str, seconds: float) -> dict[str, Any]:
        start = time.time() + 0.3
        for proc in self.procs[:n]:
            assert proc.stdin is not None
            proc.stdin.write(json.dumps({"mode": mode, "start": start, "seconds": seconds}) + "\n")
            proc.stdin.flush()
        pids = [p.pid for p in self.procs[:n]] + process_tree(server_config()["server_pid"])
        time.sleep(max(0.0, start - time.time()))
        cpu_before = cpu_seconds(pids)
        answers = [self._read(i) for i in range(n)]
        cpu = cpu_seconds(pids) - cpu_before
        elapsed = max(a["end"] for a in answers) - start
        units = sum(a["units"] for a in answers)
        return {
            "writers": n,
            "units": units,
            "errors": sum(a["errors"] for a in answers),
            "seconds": elapsed,
            "throughput": units / elapsed,
            # CPU of the writers and the server together, as a share of all the CPUs.
            "cpu_busy": cpu / (elapsed * (os.cpu_count() or 1)),
        }

    def close(self) -> None:
        for proc in self.procs:
            if proc.stdin is not None:
                proc.stdin.close()
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants (for a server: uvicorn's worker processes)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time used so far by these processes (0 for the ones gone)."""
    ticks = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def bench_writers(
    side: ServerSide, script: str, command: dict[str, Any], progress: Progress
) -> dict[str, Any]:
    levels: list[int] = command["levels"]
    modes = ("log_metric", "log_batch")
    experiment = side.new_experiment("bench-writers")
    pool = WriterPool(script, max(levels), experiment)
    results: dict[str, Any] = {}
    try:
        for m, mode in enumerate(modes):
            results[mode] = {}
            for i, n in enumerate(levels):
                results[mode][str(n)] = pool.run(n, mode, command["seconds"])
                progress(m * len(levels) + i + 1, len(modes) * len(levels))
    finally:
        pool.close()
    return results


def writer_main(side: ServerSide, number: int) -> None:
    """One writer process: a run of its own; logs in the asked mode until the deadline."""
    out = protocol_stream()
    experiment = os.environ["BENCH_WRITER_EXPERIMENT"]
    try:
        run_id = side.new_run(experiment, f"writer-{number}")
        step = 0

        def log(mode: str) -> int:
            nonlocal step
            if mode == "log_metric":
                side.log_metric(run_id, "loss", 1.0 / (step + 1), step)
                step += 1
                return 1
            ts = now_ms()
            steps = range(step, step + BLOCK // 10)  # 10 keys x 100 steps, as (b)
            points = [(f"m{k}", s * 0.001, ts, s) for s in steps for k in range(10)]
            side.log_metric_entities(run_id, side.metric_entities(points))
            step += len(steps)
            return len(points)

        for mode in ("log_metric", "log_batch"):  # warm-up: connection, caches
            log(mode)
    except Exception as exc:
        out.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"}) + "\n")
        return
    out.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        order = json.loads(line)
        time.sleep(max(0.0, order["start"] - time.time()))
        deadline = order["start"] + order["seconds"]
        units = errors = 0
        while time.time() < deadline:
            try:
                units += log(order["mode"])
            except Exception:  # counted and reported: a failed write is not throughput
                errors += 1
                time.sleep(0.01)
        out.write(json.dumps({"units": units, "errors": errors, "end": time.time()}) + "\n")


# -- the worker loop -----------------------------------------------------------------------

Extra = Callable[[ServerSide, dict[str, Any], Progress], dict[str, Any]]


def serve(side: ServerSide, extra: dict[str, Extra]) -> None:
    """bench_protocol's loop (JSON lines on stdin/stdout), with the server's tasks added."""
    out = protocol_stream()

    def emit(**event: Any) -> None:
        out.write(json.dumps(event) + "\n")

    json.loads(sys.stdin.readline())  # the orchestrator's config line: all is in the env
    emit(event="ready", versions=getattr(side, "versions", {}))
    for line in sys.stdin:
        command = json.loads(line)
        task = command["task"]

        def progress(done: int, total: int, task: str = task) -> None:
            emit(event="progress", task=task, done=done, total=total)

        try:
            if task in extra:
                result = extra[task](side, command, progress)
            else:
                result = run_command(side, command, progress)
            emit(event="result", task=task, result=result)
        except Exception as exc:
            emit(
                event="error",
                task=task,
                error=f"{type(exc).__name__}: {exc}",
                traceback=traceback.format_exc(),
            )


def common_tasks(script: str) -> dict[str, Extra]:
    return {
        "seed_history": lambda side, c, p: seed_history(side, c["points"], p),
        "history": lambda side, c, p: bench_history(
            side, c["run_id"], c["points"], c["repeats"], p
        ),
        "writers": lambda side, c, p: bench_writers(side, script, c, p),
    }
