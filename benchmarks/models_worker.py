"""One side of the model benchmark, in a fresh process: load a saved model, predict.

    python models_worker.py heron|mlflow PATH SPEC_JSON

Prints one JSON object. A fresh process per (product, model) so that load time
includes what a scoring server pays on start (importing the model library) and so
neither product warms the other's caches. Only the product measured is imported.
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np


def load(product: str, path: str) -> tuple[Callable[[Any], Any], Any, float]:
    """(predict, raw model, seconds to load)."""
    if product == "heron":
        import heron.models

        start = time.perf_counter()
        model = heron.models.load(path)
        elapsed = time.perf_counter() - start
        return model.predict, model.native, elapsed
    import mlflow.pyfunc

    start = time.perf_counter()
    pyfunc = mlflow.pyfunc.load_model(path)
    elapsed = time.perf_counter() - start
    return pyfunc.predict, pyfunc.get_raw_model(), elapsed


def overhead(
    predict: Callable[[Any], Any], raw: Callable[[Any], Any], data: np.ndarray, calls: int
) -> dict[str, float]:
    """Per-call time of the product's predict minus the raw model's, on the same input.

    Each call of the product's predict is paired with a raw call right beside it (the
    order alternating), and the median of the pair differences is reported: on a
    shared, noisy machine, two calls microseconds apart see the same load, whereas
    separate timing blocks do not.
    """
    clock = time.perf_counter
    for _ in range(max(3, calls // 10)):  # warm-up
        predict(data)
        raw(data)
    raw_times, product_times, differences = [], [], []
    gc.disable()
    try:
        for index in range(calls):
            if index % 2:
                t0 = clock()
                raw(data)
                t1 = clock()
                predict(data)
                t2 = clock()
                raw_time, product_time = t1 - t0, t2 - t1
            else:
                t0 = clock()
                predict(data)
                t1 = clock()
                raw(data)
                t2 = clock()
                product_time, raw_time = t1 - t0, t2 - t1
            raw_times.append(raw_time)
            product_times.append(product_time)
            differences.append(product_time - raw_time)
    finally:
        gc.enable()
    return {
        "raw_us": statistics.median(raw_times) * 1e6,
        "predict_us": statistics.median(product_times) * 1e6,
        "overhead_us": statistics.median(differences) * 1e6,
    }


def main() -> None:
    product, path, spec_text = sys.argv[1:4]
    spec = json.loads(spec_text)
    warnings.simplefilter("ignore")  # MLflow warns about type hints on import
    start = time.perf_counter()
    predict, raw_model, load_s = load(product, path)
    rng = np.random.default_rng(0)
    batch = rng.random((1000, spec["features"])).astype(spec["dtype"])
    one = batch[:1]
    first = time.perf_counter()
    predict(one)
    first_prediction_s = time.perf_counter() - first
    cold_total_s = time.perf_counter() - start
    warm_loads = []
    for _ in range(spec["warm_loads"]):
        warm_loads.append(load(product, path)[2])
    raw = raw_model.predict
    expected = np.asarray(raw(batch))
    np.testing.assert_allclose(np.asarray(predict(batch)), expected, rtol=1e-6)
    result = {
        "load_s": load_s,
        "warm_load_s": statistics.median(warm_loads) if warm_loads else None,
        "first_prediction_s": first_prediction_s,
        "load_and_first_prediction_s": cold_total_s,
        "one_row": overhead(predict, raw, one, spec["calls_1"]),
        "batch_1000": overhead(predict, raw, batch, spec["calls_1000"]),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
