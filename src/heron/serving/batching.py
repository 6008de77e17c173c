"""Running predictions: one request at a time, or adaptively micro-batched.

``DirectPredictor`` hands each request to the model's thread. ``MicroBatcher`` merges
requests that queued up while the model was busy into one ``predict`` call, up to
``max_batch_size`` rows, and splits the output back per request.

The batching is adaptive: when the model is idle a request is scored at once (no added
latency at low load); only when the previous call merged several requests (there is
load) does the batcher wait up to ``max_latency_ms`` for more. Requests merge only when
their params are equal and their inputs have the same kind (same columns or the same
dtype and trailing shape), so every request is scored with its own params. If a merged
call fails, each request is retried alone, so one bad request never fails its neighbours.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import time
from collections.abc import Awaitable, Callable, Hashable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from heron.serving.payloads import ScoringInput

PredictFn = Callable[[Any, dict[str, Any] | None], Any]
RowsObserver = Callable[[int], None]


# Small requests to a fast model are predicted on the event loop: handing a call to the
# model's thread and back cost 60-250 us per request on 2 busy cores (measured with a
# LogisticRegression whose predict takes ~120 us), more than the prediction. Only
# requests like those measured fast qualify (few rows, no params, which can change the
# cost), so a slow call cannot stall the loop for long or escape the request timeout.
INLINE_BELOW_S = 0.001
INLINE_MAX_ROWS = 16


class DirectPredictor:
    """Each request is its own ``predict`` call: inline when small and measured fast,
    else on the model's executor."""

    def __init__(self, predict: PredictFn, executor: Executor, observe_rows: RowsObserver) -> None:
        self._predict = predict
        self._executor = executor
        self._observe_rows = observe_rows
        self._small_call_s: float | None = None  # moving average over small requests
        # Calls running on the executor's thread: never predict inline beside one, so a
        # model that is not thread-safe still sees one call at a time.
        self._in_thread = 0

    async def predict(self, item: ScoringInput) -> Any:
        self._observe_rows(item.rows)
        small = item.rows <= INLINE_MAX_ROWS and not item.params
        average = self._small_call_s
        fast = average is not None and average < INLINE_BELOW_S
        if small and fast and not self._in_thread:
            result, seconds = self._timed(item.data, item.params)
        else:
            loop = asyncio.get_running_loop()
            self._in_thread += 1
            call = self._executor.submit(self._timed, item.data, item.params)
            # Released when the thread is done, not when the request stops waiting (a
            # timed-out request leaves its call running).
            call.add_done_callback(lambda _: _call_soon(loop, self._release))
            result, seconds = await asyncio.wrap_future(call)
        if small:
            self._small_call_s = seconds if average is None else 0.9 * average + 0.1 * seconds
        return result

    def _release(self) -> None:
        self._in_thread -= 1

    def _timed(self, data: Any, params: dict[str, Any] | None) -> tuple[Any, float]:
        # Timed around predict itself, on whichever thread runs it, so the hand-over to
        # the thread is not counted. Wall time, not CPU time: a model that waits (on a
        # remote service, say) must not be run on the event loop either.
        started = time.perf_counter()
        result = self._predict(data, params)
        return result, time.perf_counter() - started

    async def close(self) -> None:
        return None


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
    with contextlib.suppress(RuntimeError):  # the loop closed while the call ran
        loop.call_soon_threadsafe(callback)


@dataclass
class _Pending:
    item: ScoringInput
    key: Hashable | None
    future: asyncio.Future[Any]
    arrived: float = field(default_factory=time.monotonic)


class MicroBatcher:
    def __init__(
        self,
        predict: PredictFn,
        executor: Executor,
        observe_rows: RowsObserver,
        *,
        max_batch_size: int,
        max_latency_ms: float,
    ) -> None:
        self._predict = predict
        self._executor = executor
        self._observe_rows = observe_rows
        self.max_batch_size = max_batch_size
        self.max_latency = max_latency_ms / 1000
        self._queue: collections.deque[_Pending] = collections.deque()
        self._arrived = asyncio.Event()
        self._under_load = False
        self._task: asyncio.Task[None] | None = None

    async def predict(self, item: ScoringInput) -> Any:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(item, merge_key(item), future))
        self._arrived.set()
        return await future

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        while self._queue:
            pending = self._queue.popleft()
            if not pending.future.done():
                pending.future.cancel()

    async def _run(self) -> None:
        while True:
            if not self._queue:
                self._arrived.clear()
                await self._arrived.wait()
            batch = await self._collect()
            await self._execute(batch)

    async def _collect(self) -> list[_Pending]:
        first = self._queue.popleft()
        batch = [first]
        if first.key is None:
            return batch
        rows = first.item.rows
        deadline = first.arrived + self.max_latency
        while rows < self.max_batch_size:
            candidate = self._take_compatible(first.key, self.max_batch_size - rows)
            if candidate is not None:
                batch.append(candidate)
                rows += candidate.item.rows
                continue
            remaining = deadline - time.monotonic()
            if not self._under_load or remaining <= 0:
                break
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except asyncio.TimeoutError:
                break
        self._under_load = len(batch) > 1 or bool(self._queue)
        return batch

    def _take_compatible(self, key: Hashable, room: int) -> _Pending | None:
        for index, pending in enumerate(self._queue):
            if pending.key == key and pending.item.rows <= room:
                del self._queue[index]
                return pending
        return None

    async def _execute(self, batch: list[_Pending]) -> None:
        live = [p for p in batch if not p.future.done()]  # timed-out requests were cancelled
        if not live:
            return
        loop = asyncio.get_running_loop()
        if len(live) > 1:
            merged = merge([p.item for p in live])
            self._observe_rows(merged.rows)
            try:
                output = await loop.run_in_executor(
                    self._executor, self._predict, merged.data, merged.params
                )
                parts = split(output, [p.item.rows for p in live])
            except Exception:
                parts = None  # retried one by one below, so each gets its own answer
            if parts is not None:
                for pending, part in zip(live, parts, strict=True):
                    if not pending.future.done():
                        pending.future.set_result(part)
                return
        for pending in live:
            self._observe_rows(pending.item.rows)
            await _settle(
                pending.future,
                loop.run_in_executor(
                    self._executor, self._predict, pending.item.data, pending.item.params
                ),
            )


async def _settle(future: asyncio.Future[Any], result: Awaitable[Any]) -> None:
    try:
        value = await result
    except Exception as error:
        if not future.done():
            future.set_exception(error)
        return
    if not future.done():
        future.set_result(value)


def merge_key(item: ScoringInput) -> Hashable | None:
    """What must be equal for two requests to share a ``predict`` call (None: never)."""
    try:
        params = orjson.dumps(item.params, option=orjson.OPT_SORT_KEYS) if item.params else b""
    except TypeError:
        return None
    data = item.data
    if isinstance(data, np.ndarray) and data.ndim >= 1 and len(data) == item.rows:
        return ("array", data.dtype.str, data.shape[1:], params)
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return ("frame", tuple(data.columns), tuple(str(t) for t in data.dtypes), params)
    return None


def merge(items: list[ScoringInput]) -> ScoringInput:
    first = items[0].data
    rows = sum(i.rows for i in items)
    if isinstance(first, np.ndarray):
        return ScoringInput(np.concatenate([i.data for i in items]), rows, items[0].params)
    import pandas as pd

    frame = pd.concat([i.data for i in items], ignore_index=True)
    return ScoringInput(frame, rows, items[0].params)


def split(output: Any, sizes: list[int]) -> list[Any] | None:
    """The output cut back into one piece per request, or None if it has no row axis."""
    import pandas as pd

    total = sum(sizes)
    bounds = np.cumsum([0, *sizes])
    if isinstance(output, pd.DataFrame | pd.Series) and len(output) == total:
        return [output.iloc[a:b] for a, b in itertools.pairwise(bounds)]
    if isinstance(output, np.ndarray | list) and len(output) == total:
        return [output[a:b] for a, b in itertools.pairwise(bounds)]
    if isinstance(output, dict) and all(
        isinstance(v, np.ndarray | list) and len(v) == total for v in output.values()
    ):
        return [{k: v[a:b] for k, v in output.items()} for a, b in itertools.pairwise(bounds)]
    return None
