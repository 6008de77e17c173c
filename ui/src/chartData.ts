// Pure helpers for metric charts: smoothing and aligning several runs' series on one x axis.

import type uPlot from "uplot";
import { toNumber, type MetricPoint } from "./api";

export interface Series {
  label: string;
  xs: number[];
  ys: (number | null)[];
}

/** TensorBoard's smoothing: an exponential moving average, debiased so that the first
 * points are not pulled towards zero. ``weight`` 0 leaves the series as it is. */
export function smooth(values: (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return values;
  let last = 0;
  let count = 0;
  return values.map((value) => {
    if (value === null || !Number.isFinite(value)) return value;
    last = last * weight + (1 - weight) * value;
    count += 1;
    return last / (1 - Math.pow(weight, count));
  });
}

export function toSeries(label: string, points: MetricPoint[], x: "step" | "time"): Series {
  const xs: number[] = [];
  const ys: (number | null)[] = [];
  for (const point of points) {
    const value = toNumber(point.value)!;
    xs.push(x === "step" ? point.step : point.timestamp / 1000);
    ys.push(Number.isFinite(value) ? value : null);
  }
  return { label, xs, ys };
}

/** One x array for all series (uPlot draws aligned columns), with gaps where a series has
 * no point at an x. Log scales cannot show values <= 0: those become gaps too. */
export function align(series: Series[], smoothing: number, logScale: boolean): uPlot.AlignedData {
  const xs = [...new Set(series.flatMap((s) => s.xs))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const columns = series.map((s) => {
    const column: (number | null)[] = new Array(xs.length).fill(null);
    const ys = smooth(s.ys, smoothing);
    s.xs.forEach((x, i) => {
      const y = ys[i];
      column[index.get(x)!] = y === null || (logScale && y <= 0) ? null : y;
    });
    return column;
  });
  return [xs, ...columns] as uPlot.AlignedData;
}
