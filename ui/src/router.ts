// A small client-side router over the History API. The server answers each of these
// paths with index.html (CLIENT_ROUTES in src/heron/server/ui.py): keep the two in step.
// All view state that should survive a reload or be shared (filters, sort, selection,
// chart settings) lives in the URL's query string.

import { useSyncExternalStore } from "react";

const listeners = new Set<() => void>();

function notify(): void {
  for (const listener of listeners) listener();
}

window.addEventListener("popstate", notify);

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function snapshot(): string {
  return window.location.pathname + window.location.search;
}

/** The current path and query; re-renders on navigation. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const href = useSyncExternalStore(subscribe, snapshot);
  const url = new URL(href, window.location.origin);
  return { path: url.pathname, query: url.searchParams };
}

export function navigate(href: string, replace = false): void {
  if (href === snapshot()) return;
  if (replace) window.history.replaceState(null, "", href);
  else window.history.pushState(null, "", href);
  notify();
}

/** Change some query parameters of the current URL (empty values are dropped). */
export function updateQuery(changes: Record<string, string | null | undefined>, replace = true): void {
  const query = new URLSearchParams(window.location.search);
  for (const [key, value] of Object.entries(changes)) {
    if (value === null || value === undefined || value === "") query.delete(key);
    else query.set(key, value);
  }
  const text = query.toString();
  navigate(window.location.pathname + (text ? "?" + text : ""), replace);
}

export function href(path: string, params: Record<string, string | undefined> = {}): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) query.set(key, value);
  const text = query.toString();
  return path + (text ? "?" + text : "");
}

/** A comma-separated list parameter (run ids, column names). Values are URL-encoded
 * one by one so that a comma inside a key survives. */
export function readList(query: URLSearchParams, key: string): string[] {
  const value = query.get(key);
  return value ? value.split(",").map(decodeURIComponent) : [];
}

export function writeList(values: string[]): string {
  return values.map((value) => encodeURIComponent(value)).join(",");
}
