import { useState } from "react";
import { api, type AuditEvent, type TransitionRequest } from "../api";
import { Link } from "../components/Link";
import { LineageGraph } from "../components/LineageGraph";
import { Status } from "../components/Status";
import { formatTime } from "../format";
import { useAsync } from "../hooks";
import { updateQuery, useLocation } from "../router";
import { currentUser } from "../settings";

export function ModelPage({ name }: { name: string }) {
  const { query } = useLocation();
  const [generation, setGeneration] = useState(0);
  const refresh = () => setGeneration((n) => n + 1);
  const model = useAsync(() => api.getModel(name), [name, generation]);
  const versions = useAsync(() => api.listVersions(name), [name, generation]);
  const chosenVersion = Number(query.get("version")) || model.data?.latest_version || undefined;

  if (!model.data) return <Status loaded={model} />;
  const m = model.data;
  return (
    <section className="model-page">
      <p className="breadcrumbs">
        <Link to="/models">Models</Link> /
      </p>
      <h1>{m.name}</h1>
      {m.description && <p>{m.description}</p>}
      <table className="grid key-values" aria-label="Model">
        <tbody>
          <tr>
            <th>Owner</th>
            <td>{m.owner}</td>
          </tr>
          <tr>
            <th>Aliases</th>
            <td>
              {Object.entries(m.aliases).map(([alias, version]) => (
                <span key={alias} className="badge">
                  @{alias} → v{version}
                </span>
              ))}
            </td>
          </tr>
          <tr>
            <th>Protected</th>
            <td>{m.protected_aliases.join(", ") || "none"}</td>
          </tr>
          <tr>
            <th>Self-approval</th>
            <td>{m.allow_self_approval ? "allowed" : "not allowed"}</td>
          </tr>
        </tbody>
      </table>

      <h2>Versions</h2>
      <Status loaded={versions} />
      <table className="grid versions" aria-label="Versions">
        <thead>
          <tr>
            <th>Version</th>
            <th>Stage</th>
            <th>Aliases</th>
            <th>Status</th>
            <th>Run</th>
            <th>Signature</th>
            <th>Created by</th>
            <th>Created</th>
          </tr>
        </thead>
        <tbody>
          {(versions.data?.versions ?? []).map((v) => (
            <tr key={v.version} className={v.version === chosenVersion ? "selected" : undefined}>
              <td>
                <button className="link-button" onClick={() => updateQuery({ version: String(v.version) })}>
                  v{v.version}
                </button>
              </td>
              <td>{v.stage}</td>
              <td>{v.aliases.map((alias) => `@${alias}`).join(" ")}</td>
              <td>{v.status}</td>
              <td>{v.run_id ? <Link to={`/runs/${encodeURIComponent(v.run_id)}`}>{v.run_id.slice(0, 8)}</Link> : ""}</td>
              <td>
                <code>{v.signature ?? ""}</code>
              </td>
              <td>{v.created_by}</td>
              <td>{formatTime(v.created_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>

      <Requests name={name} generation={generation} onChange={refresh} />

      {chosenVersion !== undefined && <Lineage name={name} version={chosenVersion} />}

      <History name={name} generation={generation} />
    </section>
  );
}

function Requests({ name, generation, onChange }: { name: string; generation: number; onChange: () => void }) {
  const loaded = useAsync(() => api.listRequests(name), [name, generation]);
  const [comment, setComment] = useState("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const requests = loaded.data?.requests ?? [];
  const open = requests.filter((r) => r.status === "OPEN");
  const closed = requests.filter((r) => r.status !== "OPEN");

  async function decide(request: TransitionRequest, decision: "approve" | "reject" | "cancel") {
    setBusy(true);
    setError(undefined);
    try {
      await api.decide(name, request.id, decision, comment);
      setComment("");
      onChange();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <h2>Transition requests</h2>
      <Status loaded={loaded} />
      {open.length === 0 && loaded.data && <p className="muted">No open requests.</p>}
      {open.length > 0 && (
        <>
          <p className="muted">
            Deciding as <strong>{currentUser()}</strong> (set your name at the top right).
          </p>
          <input className="comment" aria-label="Decision comment" placeholder="Comment (optional)" value={comment} onChange={(e) => setComment(e.target.value)} />
        </>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <table className="grid requests" aria-label="Transition requests">
        <tbody>
          {[...open, ...closed].map((request) => (
            <tr key={request.id} data-request-id={request.id} className={request.status.toLowerCase()}>
              <td>#{request.id}</td>
              <td>
                v{request.version} → {request.target}
              </td>
              <td>
                {request.requested_by}, {formatTime(request.created_at)}
                {request.comment && <div className="muted">“{request.comment}”</div>}
              </td>
              <td className="request-status">{request.status}</td>
              <td>
                {request.status === "OPEN" ? (
                  <>
                    <button disabled={busy} onClick={() => decide(request, "approve")}>
                      Approve
                    </button>{" "}
                    <button disabled={busy} onClick={() => decide(request, "reject")}>
                      Reject
                    </button>{" "}
                    <button disabled={busy} onClick={() => decide(request, "cancel")}>
                      Cancel
                    </button>
                  </>
                ) : (
                  <span className="muted">
                    by {request.resolved_by ?? "?"}
                    {request.resolution_comment && `: ${request.resolution_comment}`}
                  </span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function Lineage({ name, version }: { name: string; version: number }) {
  const loaded = useAsync(() => api.lineage(`models:/${name}/${version}`), [name, version]);
  return (
    <>
      <h2>Lineage of v{version}</h2>
      <Status loaded={loaded} />
      {loaded.data && (
        <div className="lineage-holder">
          <LineageGraph graph={loaded.data} />
        </div>
      )}
    </>
  );
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function History({ name, generation }: { name: string; generation: number }) {
  const loaded = useAsync(() => api.modelHistory(name), [name, generation]);
  const events: AuditEvent[] = [...(loaded.data?.events ?? [])].reverse();
  return (
    <>
      <h2>Audit history</h2>
      <Status loaded={loaded} />
      <table className="grid history" aria-label="Audit history">
        <thead>
          <tr>
            <th>When</th>
            <th>Who</th>
            <th>Action</th>
            <th>Version</th>
            <th>Before</th>
            <th>After</th>
            <th>Outcome</th>
          </tr>
        </thead>
        <tbody>
          {events.map((event) => (
            <tr key={event.id} className={event.outcome === "ok" ? undefined : "refused"}>
              <td>{formatTime(event.at)}</td>
              <td>{event.actor}</td>
              <td>{event.action}</td>
              <td>{event.version ?? ""}</td>
              <td>
                <code>{describe(event.before)}</code>
              </td>
              <td>
                <code>{describe(event.after)}</code>
              </td>
              <td>{event.outcome}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
