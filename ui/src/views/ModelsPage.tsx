import { useState } from "react";
import { api } from "../api";
import { Link } from "../components/Link";
import { Status } from "../components/Status";
import { formatTime, quoteLiteral } from "../format";
import { useAsync } from "../hooks";
import { updateQuery, useLocation } from "../router";

export function ModelsPage() {
  const { query } = useLocation();
  const search = query.get("q") ?? "";
  const [typed, setTyped] = useState(search);
  const loaded = useAsync(() => api.listModels(search ? `name ILIKE ${quoteLiteral(`%${search}%`)}` : ""), [search]);
  const models = loaded.data?.models ?? [];
  return (
    <section>
      <h1>Registered models</h1>
      <form
        className="toolbar"
        onSubmit={(event) => {
          event.preventDefault();
          updateQuery({ q: typed });
        }}
      >
        <input type="search" aria-label="Search models by name" placeholder="Search by name" value={typed} onChange={(e) => setTyped(e.target.value)} />
        <button type="submit">Search</button>
      </form>
      <Status loaded={loaded} />
      <table className="grid models">
        <thead>
          <tr>
            <th>Name</th>
            <th>Latest version</th>
            <th>Aliases</th>
            <th>Owner</th>
            <th>Updated</th>
          </tr>
        </thead>
        <tbody>
          {models.map((model) => (
            <tr key={model.name}>
              <td>
                <Link to={`/models/${encodeURIComponent(model.name)}`}>{model.name}</Link>
              </td>
              <td>{model.latest_version ?? ""}</td>
              <td>
                {Object.entries(model.aliases)
                  .map(([alias, version]) => `@${alias} → v${version}`)
                  .join(", ")}
              </td>
              <td>{model.owner}</td>
              <td>{formatTime(model.updated_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {loaded.data && models.length === 0 && <p className="muted">No registered models match.</p>}
    </section>
  );
}
