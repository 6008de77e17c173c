import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { api, ApiError, type Run } from "../api";
import { FilterBox } from "../components/FilterBox";
import { Link } from "../components/Link";
import { RunsTable, type Sort } from "../components/RunsTable";
import { useAsync } from "../hooks";
import { href, navigate, readList, updateQuery, useLocation, writeList } from "../router";
import { ATTRIBUTE_COLUMNS, availableColumns, columnLabel, defaultColumns, orderClause, parseColumn, type Column } from "../runColumns";

const PAGE_SIZE = 200;

interface SearchState {
  runs: Run[];
  nextToken: string | null;
  error?: ApiError | Error;
  loading: boolean;
}

/** Server-side search with paging: the first page on every change of the query, the next
 * pages as the table scrolls. Answers to an outdated query are dropped. */
function useRunSearch(experimentIds: string[], filter: string, orderBy: string | undefined, view: string) {
  const [state, setState] = useState<SearchState>({ runs: [], nextToken: null, loading: true });
  const generation = useRef(0);
  const inFlight = useRef(false);
  const key = JSON.stringify([experimentIds, filter, orderBy, view]);

  const fetchPage = useCallback(
    (token: string | null, ours: number) => {
      inFlight.current = true;
      api
        .searchRuns({
          experiment_ids: experimentIds,
          filter: filter || undefined,
          order_by: orderBy ? [orderBy] : undefined,
          max_results: PAGE_SIZE,
          page_token: token,
          view,
        })
        .then(
          (page) => {
            if (ours !== generation.current) return;
            inFlight.current = false;
            setState((previous) => ({
              runs: token === null ? page.runs : [...previous.runs, ...page.runs],
              nextToken: page.next_page_token,
              loading: false,
            }));
          },
          (error: Error) => {
            if (ours !== generation.current) return;
            inFlight.current = false;
            setState({ runs: [], nextToken: null, error, loading: false });
          },
        );
    },
    // ``key`` stands for the query's inputs, which are new arrays on every render.
    [key],
  );

  useEffect(() => {
    generation.current += 1;
    setState((previous) => ({ ...previous, loading: true, error: undefined }));
    fetchPage(null, generation.current);
  }, [fetchPage]);

  const loadMore = useCallback(() => {
    if (inFlight.current || state.nextToken === null) return;
    fetchPage(state.nextToken, generation.current);
  }, [fetchPage, state.nextToken]);

  const reload = useCallback(() => {
    generation.current += 1;
    fetchPage(null, generation.current);
  }, [fetchPage]);

  return { ...state, loadMore, reload };
}

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
      {actionError && <p className="error">{actionError}</p>}
      {search.error && !(search.error instanceof ApiError && search.error.code === "SEARCH_SYNTAX_ERROR") && (
        <p className="error" role="alert">
          {search.error.message}
        </p>
      )}
      <RunsTable
        runs={search.runs}
        columns={columns}
        hasMore={search.nextToken !== null}
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
