import { useMemo } from "react";
import { api } from "../api";
import { toSeries } from "../chartData";
import { useAsync } from "../hooks";
import type { ChartSettings } from "./ChartControls";
import { MetricChart } from "./MetricChart";
import { Status } from "./Status";

// The server downsamples each history to this many points (min/max per bucket), so a
// 1,000,000-point series costs the same to draw as a short one.
const MAX_POINTS = 2000;

/** The chart of metric ``metric`` for ``runs``, from their downsampled histories. */
export function MetricHistories({ metric, runs, settings }: { metric: string; runs: { id: string; name: string }[]; settings: ChartSettings }) {
  const loaded = useAsync(
    (signal) =>
      Promise.all(
        runs.map((run) =>
          api.metricHistory(run.id, metric, MAX_POINTS, signal).then(
            (page) => page.metrics,
            () => [], // a run that never logged this metric draws no line
          ),
        ),
      ),
    [metric, runs.map((r) => r.id).join(",")],
  );
  const series = useMemo(
    () => (loaded.data ?? []).map((points, i) => toSeries(runs[i]?.name || runs[i]?.id.slice(0, 8) || "", points, settings.x)),
    // ``runs`` is a new array on every render; the histories are what change the series.
    [loaded.data, settings.x],
  );
  if (!loaded.data) return <Status loaded={loaded} />;
  return <MetricChart title={metric} series={series} logScale={settings.logScale} smoothing={settings.smoothing} x={settings.x} />;
}
