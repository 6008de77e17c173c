import { useState } from "react";
import { api } from "../api";
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
              <td>{formatTime(experiment.last_update_time)}</td>
              <td>{formatTime(experiment.creation_time)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {loaded.data && experiments.length === 0 && <p className="muted">No experiments match.</p>}
    </section>
  );
}
