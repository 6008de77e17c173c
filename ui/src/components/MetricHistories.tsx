import { useMemo } from "react";
import { api, type MetricPoint } from "../api";
import { toSeries } from "../chartData";
import { useAsync } from "../hooks";
import type { ChartSettings } from "./ChartControls";
import { MetricChart } from "./MetricChart";
import { Status } from "./Status";

// The server downsamples each history to this many points (min/max per bucket), so a
// 1,000,000-point series costs the same to draw as a short one.
const MAX_POINTS = 2000;

// Histories asked for before their chart mounts (the compare page asks while it still
// loads the runs, ~100 ms earlier) are shared with the chart; kept briefly once answered.
const requests = new Map<string, Promise<MetricPoint[]>>();
const KEEP_MS = 10_000;

function history(runId: string, metric: string): Promise<MetricPoint[]> {
  const key = JSON.stringify([runId, metric]);
  let request = requests.get(key);
  if (!request) {
    request = api.metricHistory(runId, metric, MAX_POINTS).then(
      (page) => page.metrics,
      () => [], // a run that never logged this metric draws no line
    );
    requests.set(key, request);
    void request.then(() => setTimeout(() => requests.delete(key), KEEP_MS));
  }
  return request;
}

/** Start loading the charts' histories of ``runIds`` now. */
export function prefetchHistories(runIds: string[], metrics: string[]): void {
  for (const metric of metrics) for (const runId of runIds) void history(runId, metric);
}

/** The chart of metric ``metric`` for ``runs``, from their downsampled histories. */
export function MetricHistories({ metric, runs, settings }: { metric: string; runs: { id: string; name: string }[]; settings: ChartSettings }) {
  const loaded = useAsync(() => Promise.all(runs.map((run) => history(run.id, metric))), [metric, runs.map((r) => r.id).join(",")]);
  const series = useMemo(
    () => (loaded.data ?? []).map((points, i) => toSeries(runs[i]?.name || runs[i]?.id.slice(0, 8) || "", points, settings.x)),
    // ``runs`` is a new array on every render; the histories are what change the series.
    [loaded.data, settings.x],
  );
  if (!loaded.data) return <Status loaded={loaded} />;
  return <MetricChart title={metric} series={series} logScale={settings.logScale} smoothing={settings.smoothing} x={settings.x} />;
}
