import type { Loaded } from "../hooks";

/** Loading and error lines for a ``useAsync`` result. */
export function Status<T>({ loaded }: { loaded: Loaded<T> }) {
  if (loaded.error) return <p className="error" role="alert">{loaded.error.message}</p>;
  if (loaded.loading && loaded.data === undefined) return <p className="muted">Loading…</p>;
  return null;
}
