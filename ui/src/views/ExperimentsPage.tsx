import { useState } from "react";
import { api, type ExperimentStats } from "../api";
import { Link } from "../components/Link";
import { Status } from "../components/Status";
import { formatTime } from "../format";
import { useAsync } from "../hooks";
import { href, navigate, updateQuery, useLocation, writeList } from "../router";

export function ExperimentsPage() {
  const { query } = useLocation();
  const search = query.get("q") ?? "";
  const [typed, setTyped] = useState(search);
  const [chosen, setChosen] = useState<string[]>([]);
  const loaded = useAsync(() => api.listExperiments(search), [search]);
  const experiments = loaded.data?.experiments ?? [];
  // Counts come from one GROUP BY on the server for the whole page of experiments.
  const ids = experiments.map((experiment) => experiment.id);
  const stats = useAsync(
    () => (ids.length ? api.experimentStats(ids) : Promise.resolve({ stats: [] })),
    [ids.join(",")],
  );
  const statsById = new Map((stats.data?.stats ?? []).map((s) => [s.experiment_id, s]));

  return (
    <section>
      <h1>Experiments</h1>
      <div className="toolbar">
        <form
          onSubmit={(event) => {
            event.preventDefault();
            updateQuery({ q: typed });
          }}
        >
          <input
            type="search"
            aria-label="Search experiments by name"
            placeholder="Search by name"
            value={typed}
            onChange={(event) => setTyped(event.target.value)}
          />
          <button type="submit">Search</button>
        </form>
        <button
          disabled={chosen.length === 0}
          onClick={() => navigate(href("/experiments", { ids: writeList(chosen) }))}
        >
          Show runs of {chosen.length} selected
        </button>
      </div>
      <Status loaded={loaded} />
      <table className="grid experiments">
        <thead>
          <tr>
            <th />
            <th>Name</th>
            <th>ID</th>
            <th>Runs</th>
            <th>Last activity</th>
            <th>Created</th>
          </tr>
        </thead>
        <tbody>
          {experiments.map((experiment) => (
            <tr key={experiment.id}>
              <td>
                <input
                  type="checkbox"
                  aria-label={`Select experiment ${experiment.name}`}
                  checked={chosen.includes(experiment.id)}
                  onChange={(event) =>
                    setChosen(event.target.checked ? [...chosen, experiment.id] : chosen.filter((id) => id !== experiment.id))
                  }
                />
              </td>
              <td>
                <Link to={href("/experiments", { ids: experiment.id })}>{experiment.name}</Link>
              </td>
              <td className="muted">{experiment.id}</td>
              <RunCount stats={statsById.get(experiment.id)} />
              <td className="last-activity">{formatTime(statsById.get(experiment.id)?.last_activity ?? experiment.last_update_time)}</td>
              <td>{formatTime(experiment.creation_time)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {loaded.data && experiments.length === 0 && <p className="muted">No experiments match.</p>}
    </section>
  );
}

function RunCount({ stats }: { stats: ExperimentStats | undefined }) {
  if (!stats) return <td className="number run-count muted">…</td>;
  return (
    <td className="number run-count" title={stats.deleted_runs ? `${stats.deleted_runs} deleted` : undefined}>
      {stats.active_runs}
      {stats.deleted_runs > 0 && <span className="muted"> (+{stats.deleted_runs} deleted)</span>}
    </td>
  );
}
