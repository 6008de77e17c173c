// Grouping the runs table by a param or tag (pure: no React, no I/O).

import type { Run } from "./api";
import { formatNumber } from "./format";
import { columnValue, parseColumn } from "./runColumns";

export interface RunGroup {
  /** Names the group in the URL's list of collapsed groups: "v:<value>", or "none". */
  key: string;
  label: string;
  runs: Run[];
}

export const NO_VALUE = "none";

/** Runs grouped by their value in ``columnId``, groups in the order of their first run
 * (so a sorted table puts the group of the best run first), runs in their own order. */
export function groupRuns(runs: Run[], columnId: string): RunGroup[] {
  const column = parseColumn(columnId);
  if (!column) return [];
  const groups = new Map<string, RunGroup>();
  for (const run of runs) {
    const value = columnValue(run, column);
    const key = value === undefined ? NO_VALUE : `v:${value}`;
    let group = groups.get(key);
    if (!group) {
      group = { key, label: value === undefined ? "(no value)" : String(value), runs: [] };
      groups.set(key, group);
    }
    group.runs.push(run);
  }
  return [...groups.values()];
}

/** "mean 0.83 · min 0.8 · max 0.86" of a metric over a group's runs that have it. */
export function metricSummary(runs: Run[], columnId: string): string | undefined {
  const column = parseColumn(columnId);
  if (!column || column.kind !== "metrics") return undefined;
  const values = runs
    .map((run) => columnValue(run, column))
    .filter((value): value is number => typeof value === "number" && Number.isFinite(value));
  if (values.length === 0) return undefined;
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  return `${column.key}: mean ${formatNumber(mean)} · min ${formatNumber(Math.min(...values))} · max ${formatNumber(Math.max(...values))}`;
}
