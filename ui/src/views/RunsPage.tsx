import { useEffect, useMemo, useState } from "react";
import { api, ApiError, type Run } from "../api";
import { FilterBox } from "../components/FilterBox";
import { Link } from "../components/Link";
import { readPanel, RunsPlots, type Panel } from "../components/RunsPlots";
import { RunsTable, type Sort } from "../components/RunsTable";
import { useAsync } from "../hooks";
import { href, navigate, readList, updateQuery, useLocation, writeList } from "../router";
import { ATTRIBUTE_COLUMNS, availableColumns, columnLabel, defaultColumns, orderClause, parseColumn, type Column } from "../runColumns";
import { groupRuns, metricSummary } from "../runGroups";
import { MAX_ALL_RUNS, PAGE_SIZE, useAllRuns, useRunSearch } from "../runSearch";

export function RunsPage() {
  const { query } = useLocation();
  const experimentIds = readList(query, "ids");
  const filter = query.get("filter") ?? "";
  const sortColumn = query.get("sort") ?? "";
  const descending = query.get("dir") !== "asc";
  const view = query.get("view") ?? "active";
  const selected = useMemo(() => new Set(readList(query, "sel")), [query]);
  const sort: Sort | undefined = sortColumn ? { column: sortColumn, descending } : undefined;
  const orderBy = sortColumn ? orderClause(sortColumn, descending) : undefined;

  const search = useRunSearch(experimentIds, filter, orderBy, view);
  const groupBy = query.get("group") ?? "";
  const panel = readPanel(query);
  // Groups and plots need every run of the search, not the pages scrolled so far.
  const all = useAllRuns(experimentIds, filter, orderBy, view, groupBy !== "" || panel !== "table");
  const collapsed = useMemo(() => new Set(readList(query, "collapsed")), [query]);
  const groups = useMemo(
    () =>
      groupBy && panel === "table"
        ? groupRuns(all.runs, groupBy).map((group) => ({ group, collapsed: collapsed.has(group.key), summary: metricSummary(group.runs, sortColumn) }))
        : undefined,
    [groupBy, panel, all.runs, collapsed, sortColumn],
  );
  const experiments = useAsync(() => Promise.all(experimentIds.map((id) => api.getExperiment(id))), [experimentIds.join(",")]);
  const experimentNames = new Map((experiments.data ?? []).map((e) => [e.id, e.name]));

  const chosenColumns = query.has("cols") ? readList(query, "cols") : undefined;
  const [firstRuns, setFirstRuns] = useState<Run[]>([]);
  useEffect(() => {
    if (firstRuns.length === 0 && search.runs.length > 0) setFirstRuns(search.runs.slice(0, PAGE_SIZE));
  }, [search.runs, firstRuns.length]);
  const columnIds = chosenColumns ?? defaultColumns(firstRuns);
  const columns = columnIds.map(parseColumn).filter((c): c is Column => c !== undefined);
  const offered = [...new Set([...columnIds, ...availableColumns(search.runs.slice(0, PAGE_SIZE))])];

  const setSelected = (ids: Set<string>) => updateQuery({ sel: writeList([...ids]) });
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string>();

  async function applyToSelected(action: (id: string) => Promise<void>) {
    setBusy(true);
    setActionError(undefined);
    try {
      for (const id of selected) await action(id);
      setSelected(new Set());
      search.reload();
    } catch (error) {
      setActionError((error as Error).message);
    } finally {
      setBusy(false);
    }
  }

  if (experimentIds.length === 0) {
    return (
      <p>
        Choose experiments on the <Link to="/">experiments page</Link>.
      </p>
    );
  }

  return (
    <section className="runs-page">
      <h1>
        Runs of{" "}
        {experimentIds.map((id, index) => (
          <span key={id}>
            {index > 0 && ", "}
            {experimentNames.get(id) ?? id}
          </span>
        ))}
      </h1>
      <div className="toolbar">
        <FilterBox
          value={filter}
          onApply={(text) => updateQuery({ filter: text })}
          error={search.error instanceof ApiError ? search.error : undefined}
        />
        <label>
          Show{" "}
          <select value={view} onChange={(event) => updateQuery({ view: event.target.value === "active" ? "" : event.target.value })}>
            <option value="active">active runs</option>
            <option value="deleted">deleted runs</option>
            <option value="all">all runs</option>
          </select>
        </label>
        <ColumnPicker offered={offered} chosen={columnIds} />
      </div>
      <div className="toolbar">
        <span className="muted" aria-live="polite">
          {search.loading ? "Loading…" : `${search.runs.length}${search.nextToken ? "+" : ""} runs`}
          {selected.size > 0 && ` · ${selected.size} selected`}
        </span>
        <button
          disabled={selected.size < 1}
          onClick={() => navigate(href("/compare", { runs: writeList([...selected]) }))}
        >
          Compare selected
        </button>
        <button disabled={selected.size === 0 || busy} onClick={() => applyToSelected(api.deleteRun)}>
          Delete selected
        </button>
        <button disabled={selected.size === 0 || busy} onClick={() => applyToSelected(api.restoreRun)}>
          Restore selected
        </button>
        {selected.size > 0 && <button onClick={() => setSelected(new Set())}>Clear selection</button>}
      </div>
      <PanelTabs panel={panel} />
      {panel === "table" && <GroupPicker offered={offered} value={groupBy} />}
      {(groupBy || panel !== "table") && (
        <p className="muted" aria-live="polite">
          {all.loading ? "Loading every run…" : `${all.runs.length} runs${groups ? ` in ${groups.length} groups` : ""}`}
          {all.capped && ` (the first ${MAX_ALL_RUNS.toLocaleString("en")}; narrow the filter to see the rest)`}
        </p>
      )}
      {actionError && <p className="error">{actionError}</p>}
      {search.error && !(search.error instanceof ApiError && search.error.code === "SEARCH_SYNTAX_ERROR") && (
        <p className="error" role="alert">
          {search.error.message}
        </p>
      )}
      {panel !== "table" && !all.loading && (
        <RunsPlots panel={panel} runs={all.runs} offered={offered} sortColumn={sortColumn} query={query} />
      )}
      {panel === "table" && (
      <RunsTable
        runs={groups ? all.runs : search.runs}
        groups={groups}
        onToggleGroup={(key) => {
          const next = new Set(collapsed);
          if (next.has(key)) next.delete(key);
          else next.add(key);
          updateQuery({ collapsed: writeList([...next]) });
        }}
        columns={columns}
        hasMore={!groups && search.nextToken !== null}
        loadMore={search.loadMore}
        sort={sort}
        onSort={(next) => updateQuery({ sort: next.column, dir: next.descending ? "" : "asc" })}
        selected={selected}
        onSelect={(id, on) => {
          const next = new Set(selected);
          if (on) next.add(id);
          else next.delete(id);
          setSelected(next);
        }}
        experimentNames={experimentNames}
      />
      )}
    </section>
  );
}

function ColumnPicker({ offered, chosen }: { offered: string[]; chosen: string[] }) {
  const all = [...new Set([...ATTRIBUTE_COLUMNS, ...offered])];
  return (
    <details className="column-picker">
      <summary>Columns</summary>
      <div className="column-list">
        {all.map((id) => {
          const column = parseColumn(id);
          if (!column) return null;
          return (
            <label key={id}>
              <input
                type="checkbox"
                checked={chosen.includes(id)}
                onChange={(event) =>
                  updateQuery({
                    cols: writeList(event.target.checked ? [...chosen, id] : chosen.filter((other) => other !== id)) || ",",
                  })
                }
              />{" "}
              {columnLabel(column)}
            </label>
          );
        })}
      </div>
    </details>
  );
}

const PANELS: { id: Panel; label: string }[] = [
  { id: "table", label: "Table" },
  { id: "scatter", label: "Scatter plot" },
  { id: "parallel", label: "Parallel coordinates" },
];

function PanelTabs({ panel }: { panel: Panel }) {
  return (
    <nav className="tabs" role="tablist" aria-label="Runs views">
      {PANELS.map(({ id, label }) => (
        <button key={id} role="tab" aria-selected={panel === id} onClick={() => updateQuery({ panel: id === "table" ? "" : id })}>
          {label}
        </button>
      ))}
    </nav>
  );
}

/** Group the table by a param or tag; the choice (and collapsed groups) live in the URL. */
function GroupPicker({ offered, value }: { offered: string[]; value: string }) {
  const choices = offered.filter((id) => id.startsWith("params:") || id.startsWith("tags:"));
  return (
    <div className="toolbar">
      <label>
        Group by{" "}
        <select value={value} onChange={(event) => updateQuery({ group: event.target.value, collapsed: "" })}>
          <option value="">(no grouping)</option>
          {value && !choices.includes(value) && <option value={value}>{value}</option>}
          {choices.map((id) => (
            <option key={id} value={id}>
              {columnLabel(parseColumn(id)!)}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}
