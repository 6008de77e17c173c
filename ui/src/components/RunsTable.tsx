import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useMemo, useRef } from "react";
import type { Run } from "../api";
import { formatDuration, formatNumber, formatTime } from "../format";
import { href } from "../router";
import { columnLabel, type Column } from "../runColumns";
import type { RunGroup } from "../runGroups";
import { Link } from "./Link";

const ROW_HEIGHT = 30;

export interface Sort {
  column: string;
  descending: boolean;
}

interface Props {
  runs: Run[];
  columns: Column[];
  hasMore: boolean;
  loadMore: () => void;
  sort: Sort | undefined;
  onSort: (sort: Sort) => void;
  selected: Set<string>;
  onSelect: (runId: string, selected: boolean) => void;
  experimentNames: Map<string, string>;
  /** Grouped display: each group's header row, then its runs unless collapsed. */
  groups?: { group: RunGroup; collapsed: boolean; summary?: string }[];
  onToggleGroup?: (key: string) => void;
}

type DisplayRow = { kind: "group"; group: RunGroup; collapsed: boolean; summary?: string } | { kind: "run"; run: Run };

function cell(run: Run, column: Column): string {
  switch (column.kind) {
    case "params":
      return run.params[column.key] ?? "";
    case "metrics":
      return formatNumber(run.metrics[column.key]);
    case "tags":
      return run.tags[column.key] ?? "";
    default:
      switch (column.key) {
        case "status":
          return run.status;
        case "user":
          return run.user;
        case "start_time":
          return formatTime(run.start_time);
        case "duration":
          return formatDuration(run.start_time, run.end_time);
        case "experiment_id":
          return run.experiment_id;
        default:
          return "";
      }
  }
}

function columnWidth(column: Column): string {
  if (column.id === "attributes:start_time") return "minmax(150px, 1fr)";
  return column.kind === "attributes" ? "minmax(90px, 1fr)" : "minmax(100px, 1fr)";
}

/** The runs of a search, one virtualized row per run: only the rows on screen are in the
 * DOM, and the next page is asked for as the last loaded rows scroll into view. */
export function RunsTable({ runs, columns, hasMore, loadMore, sort, onSort, selected, onSelect, experimentNames, groups, onToggleGroup }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const rows: DisplayRow[] = useMemo(
    () =>
      groups
        ? groups.flatMap((g): DisplayRow[] => [
            { kind: "group", ...g },
            ...(g.collapsed ? [] : g.group.runs.map((run): DisplayRow => ({ kind: "run", run }))),
          ])
        : runs.map((run): DisplayRow => ({ kind: "run", run })),
    [groups, runs],
  );
  const virtualizer = useVirtualizer({
    count: rows.length + (hasMore ? 1 : 0),
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const items = virtualizer.getVirtualItems();
  const lastIndex = items.length ? items[items.length - 1].index : 0;
  useEffect(() => {
    if (hasMore && lastIndex >= rows.length - 20) loadMore();
  }, [hasMore, lastIndex, rows.length, loadMore]);

  const template = `32px minmax(180px, 2fr) ${columns.map(columnWidth).join(" ")}`;
  const showExperiment = experimentNames.size > 1;

  return (
    <div className="runs-table" role="table" aria-label="Runs" aria-rowcount={runs.length}>
      <div className="runs-head" role="row" style={{ gridTemplateColumns: template }}>
        <span role="columnheader" />
        <HeaderCell id="attributes:run_name" label="Name" sort={sort} onSort={onSort} />
        {columns.map((column) => (
          <HeaderCell
            key={column.id}
            id={column.id}
            label={columnLabel(column)}
            sort={sort}
            onSort={column.sortable ? onSort : undefined}
          />
        ))}
      </div>
      <div className="runs-body" ref={scroller}>
        <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
          {items.map((item) => {
            const row = rows[item.index];
            if (row?.kind === "group") {
              const { group, collapsed, summary } = row;
              return (
                <div
                  key={"group:" + group.key}
                  role="row"
                  className="runs-row group-row"
                  data-group={group.label}
                  style={{ transform: `translateY(${item.start}px)` }}
                >
                  <span role="cell">
                    <button className="link-button group-toggle" aria-expanded={!collapsed} onClick={() => onToggleGroup?.(group.key)}>
                      {collapsed ? "▸" : "▾"} {group.label}
                    </button>{" "}
                    <span className="group-count">
                      {group.runs.length} run{group.runs.length === 1 ? "" : "s"}
                    </span>
                    {summary && <span className="muted group-summary"> · {summary}</span>}
                  </span>
                </div>
              );
            }
            const run = row?.run;
            if (run === undefined) {
              return (
                <div key="more" className="runs-row loading-row" style={{ transform: `translateY(${item.start}px)` }}>
                  Loading more runs…
                </div>
              );
            }
            return (
              <div
                key={run.id}
                role="row"
                data-run-id={run.id}
                className={"runs-row" + (selected.has(run.id) ? " selected" : "") + (run.lifecycle_stage === "deleted" ? " deleted" : "")}
                style={{ transform: `translateY(${item.start}px)`, gridTemplateColumns: template }}
              >
                <span role="cell">
                  <input
                    type="checkbox"
                    aria-label={`Select run ${run.name}`}
                    checked={selected.has(run.id)}
                    onChange={(event) => onSelect(run.id, event.target.checked)}
                  />
                </span>
                <span role="cell" className="run-name">
                  <Link to={href(`/runs/${encodeURIComponent(run.id)}`)} title={run.name}>
                    {run.name || run.id.slice(0, 8)}
                  </Link>
                  {showExperiment && <span className="muted"> · {experimentNames.get(run.experiment_id) ?? run.experiment_id}</span>}
                </span>
                {columns.map((column) => {
                  const text = cell(run, column);
                  return (
                    <span role="cell" key={column.id} className={column.kind === "metrics" ? "number" : undefined} title={text}>
                      {text}
                    </span>
                  );
                })}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}

function HeaderCell({ id, label, sort, onSort }: { id: string; label: string; sort: Sort | undefined; onSort?: (sort: Sort) => void }) {
  const active = sort?.column === id;
  const arrow = active ? (sort.descending ? " ▼" : " ▲") : "";
  if (!onSort) {
    return (
      <span role="columnheader" title={label}>
        {label}
      </span>
    );
  }
  return (
    <span role="columnheader" aria-sort={active ? (sort.descending ? "descending" : "ascending") : "none"}>
      <button
        className="sort-button"
        title={`Sort by ${label}`}
        onClick={() => onSort({ column: id, descending: active ? !sort.descending : true })}
      >
        {label}
        {arrow}
      </button>
    </span>
  );
}
