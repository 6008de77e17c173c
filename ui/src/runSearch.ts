// Runs of a search, from the server: page by page as a table scrolls (useRunSearch), or
// all of them at once for views that need every run (groups, scatter, parallel axes).

import { useCallback, useEffect, useRef, useState } from "react";
import { api, ApiError, type Run } from "./api";

export const PAGE_SIZE = 200;

interface SearchState {
  runs: Run[];
  nextToken: string | null;
  error?: ApiError | Error;
  loading: boolean;
}

/** Server-side search with paging: the first page on every change of the query, the next
 * pages as the table scrolls. Answers to an outdated query are dropped. */
export function useRunSearch(experimentIds: string[], filter: string, orderBy: string | undefined, view: string) {
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

// Groups and plots load every run of the search, up to this many (pages of ALL_PAGE_SIZE).
export const MAX_ALL_RUNS = 10_000;
const ALL_PAGE_SIZE = 2_000;

export interface AllRuns {
  runs: Run[];
  loading: boolean;
  capped: boolean;
  error?: Error;
}

/** Every run of a search (at most MAX_ALL_RUNS), while ``enabled``. */
export function useAllRuns(experimentIds: string[], filter: string, orderBy: string | undefined, view: string, enabled: boolean): AllRuns {
  const [state, setState] = useState<AllRuns>({ runs: [], loading: enabled, capped: false });
  const key = JSON.stringify([experimentIds, filter, orderBy, view, enabled]);
  useEffect(() => {
    if (!enabled) return;
    const controller = new AbortController();
    setState((previous) => ({ ...previous, loading: true, error: undefined }));
    (async () => {
      const runs: Run[] = [];
      let token: string | null = null;
      do {
        const page = await api.searchRuns(
          {
            experiment_ids: experimentIds,
            filter: filter || undefined,
            order_by: orderBy ? [orderBy] : undefined,
            max_results: ALL_PAGE_SIZE,
            page_token: token,
            view,
          },
          controller.signal,
        );
        runs.push(...page.runs);
        token = page.next_page_token;
      } while (token !== null && runs.length < MAX_ALL_RUNS);
      return { runs: runs.slice(0, MAX_ALL_RUNS), capped: token !== null || runs.length > MAX_ALL_RUNS };
    })().then(
      ({ runs, capped }) => {
        if (!controller.signal.aborted) setState({ runs, capped, loading: false });
      },
      (error: Error) => {
        if (!controller.signal.aborted) setState({ runs: [], capped: false, loading: false, error });
      },
    );
    return () => controller.abort();
    // ``key`` stands for the query's inputs, which are new arrays on every render.
  }, [key]);
  return state;
}
