// Columns of the runs table, named in the URL as "kind:key" (e.g. "metrics:auc").

import { toNumber, type Run } from "./api";
import { searchKey } from "./format";

export type ColumnKind = "attributes" | "params" | "metrics" | "tags";

export interface Column {
  id: string;
  kind: ColumnKind;
  key: string;
  sortable: boolean;
}

const ATTRIBUTE_LABELS: Record<string, string> = {
  run_name: "Name",
  status: "Status",
  user: "User",
  start_time: "Started",
  duration: "Duration",
};

// Duration is end_time - start_time: not a column the server can sort on.
const UNSORTABLE = new Set(["attributes:duration"]);

export const ATTRIBUTE_COLUMNS = ["attributes:status", "attributes:user", "attributes:start_time", "attributes:duration"];

export function parseColumn(id: string): Column | undefined {
  const at = id.indexOf(":");
  const kind = id.slice(0, at) as ColumnKind;
  const key = id.slice(at + 1);
  if (at < 0 || !key || !["attributes", "params", "metrics", "tags"].includes(kind)) return undefined;
  return { id, kind, key, sortable: !UNSORTABLE.has(id) };
}

export function columnLabel(column: Column): string {
  if (column.kind === "attributes") return ATTRIBUTE_LABELS[column.key] ?? column.key;
  return `${column.kind}.${column.key}`;
}

/** The order_by clause of the search API for a column. */
export function orderClause(columnId: string, descending: boolean): string | undefined {
  const column = parseColumn(columnId);
  if (!column || !column.sortable) return undefined;
  return `${searchKey(column.kind, column.key)} ${descending ? "DESC" : "ASC"}`;
}

/** Every param, metric and tag key seen in ``runs``, as column ids. */
export function availableColumns(runs: Run[]): string[] {
  const seen = { params: new Set<string>(), metrics: new Set<string>(), tags: new Set<string>() };
  for (const run of runs) {
    for (const key of Object.keys(run.params)) seen.params.add(key);
    for (const key of Object.keys(run.metrics)) seen.metrics.add(key);
    for (const key of Object.keys(run.tags)) if (!key.startsWith("heron.") && !key.startsWith("mlflow.")) seen.tags.add(key);
  }
  return (["metrics", "params", "tags"] as const).flatMap((kind) => [...seen[kind]].sort().map((key) => `${kind}:${key}`));
}

/** Columns shown before the user chooses: the first few metrics and params. */
export function defaultColumns(runs: Run[]): string[] {
  const available = availableColumns(runs);
  const metrics = available.filter((id) => id.startsWith("metrics:")).slice(0, 4);
  const params = available.filter((id) => id.startsWith("params:")).slice(0, 4);
  return [...ATTRIBUTE_COLUMNS, ...metrics, ...params];
}

/** A run's own value in a column, unformatted: metrics (and times) as numbers, the rest as
 * text; undefined when the run has no value there. */
export function columnValue(run: Run, column: Column): string | number | undefined {
  switch (column.kind) {
    case "metrics": {
      const value = toNumber(run.metrics[column.key]);
      return value === undefined || Number.isNaN(value) ? undefined : value;
    }
    case "params":
      return run.params[column.key];
    case "tags":
      return run.tags[column.key];
    default:
      switch (column.key) {
        case "status":
          return run.status;
        case "user":
          return run.user;
        case "start_time":
          return run.start_time;
        case "duration":
          return run.end_time === null ? undefined : run.end_time - run.start_time;
        case "experiment_id":
          return run.experiment_id;
        default:
          return undefined;
      }
  }
}
