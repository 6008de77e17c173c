import type { ReactNode } from "react";
import { api, type Run } from "../api";
import { ArtifactBrowser } from "../components/ArtifactBrowser";
import { ChartControls, readChartSettings } from "../components/ChartControls";
import { KeyValueTable } from "../components/KeyValueTable";
import { Link } from "../components/Link";
import { MetricHistories } from "../components/MetricHistories";
import { Status } from "../components/Status";
import { formatDuration, formatNumber, formatTime, quoteLiteral } from "../format";
import { useAsync } from "../hooks";
import { href, readList, updateQuery, useLocation, writeList } from "../router";

const TABS = ["overview", "params", "metrics", "tags", "datasets", "artifacts"] as const;

export function RunPage({ runId }: { runId: string }) {
  const { query } = useLocation();
  const tab = (TABS as readonly string[]).includes(query.get("tab") ?? "") ? query.get("tab")! : "overview";
  const loaded = useAsync(() => api.getRun(runId), [runId]);
  const run = loaded.data;
  if (!run) return <Status loaded={loaded} />;
  return (
    <section className="run-page">
      <p className="breadcrumbs">
        <Link to={href("/experiments", { ids: run.experiment_id })}>Experiment {run.experiment_id}</Link> /
      </p>
      <h1 className="run-title">{run.name || run.id}</h1>
      <nav className="tabs" role="tablist">
        {TABS.map((name) => (
          <button key={name} role="tab" aria-selected={tab === name} onClick={() => updateQuery({ tab: name === "overview" ? "" : name })}>
            {name[0].toUpperCase() + name.slice(1)}
          </button>
        ))}
      </nav>
      {tab === "overview" && <Overview run={run} />}
      {tab === "params" && <KeyValueTable label="Params" values={run.params} />}
      {tab === "metrics" && <Metrics run={run} query={query} />}
      {tab === "tags" && <KeyValueTable label="Tags" values={run.tags} />}
      {tab === "datasets" && <Datasets run={run} />}
      {tab === "artifacts" && <ArtifactBrowser runId={run.id} />}
    </section>
  );
}

function Overview({ run }: { run: Run }) {
  const children = useAsync(
    () =>
      api.searchRuns({
        experiment_ids: [run.experiment_id],
        filter: `attributes.parent_run_id = ${quoteLiteral(run.id)}`,
        max_results: 500,
      }),
    [run.id],
  );
  const rows: [string, ReactNode][] = [
    ["Run ID", run.id],
    ["Status", run.status],
    ["Started", formatTime(run.start_time)],
    ["Ended", formatTime(run.end_time)],
    ["Duration", formatDuration(run.start_time, run.end_time)],
    ["User", run.user],
    ["Source", run.source],
    ["Git commit", run.git_commit ?? ""],
    ["Lifecycle", run.lifecycle_stage],
    ["Artifact URI", run.artifact_uri],
    ["Parent run", run.parent_run_id ? <Link to={`/runs/${encodeURIComponent(run.parent_run_id)}`}>{run.parent_run_id}</Link> : ""],
  ];
  const nested = children.data?.runs ?? [];
  return (
    <>
      <table className="grid key-values" aria-label="Overview">
        <tbody>
          {rows.map(([label, value]) => (
            <tr key={label}>
              <th>{label}</th>
              <td>{value}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {nested.length > 0 && (
        <>
          <h2>Nested runs</h2>
          <ul>
            {nested.map((child) => (
              <li key={child.id}>
                <Link to={`/runs/${encodeURIComponent(child.id)}`}>{child.name || child.id}</Link>{" "}
                <span className="muted">{child.status}</span>
              </li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}

function Metrics({ run, query }: { run: Run; query: URLSearchParams }) {
  const keys = Object.keys(run.metrics).sort();
  const charted = query.has("charts") ? readList(query, "charts").filter((key) => keys.includes(key)) : keys.slice(0, 6);
  const settings = readChartSettings(query);
  const toggle = (key: string, on: boolean) =>
    updateQuery({ charts: writeList(on ? [...charted, key] : charted.filter((other) => other !== key)) || "," });
  return (
    <>
      <table className="grid key-values" aria-label="Metrics">
        <thead>
          <tr>
            <th>Chart</th>
            <th>Metric</th>
            <th>Latest</th>
          </tr>
        </thead>
        <tbody>
          {keys.map((key) => (
            <tr key={key}>
              <td>
                <input type="checkbox" aria-label={`Chart ${key}`} checked={charted.includes(key)} onChange={(e) => toggle(key, e.target.checked)} />
              </td>
              <td>{key}</td>
              <td className="number">{formatNumber(run.metrics[key])}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <ChartControls settings={settings} />
      <div className="charts">
        {charted.map((key) => (
          <MetricHistories key={key} metric={key} runs={[run]} settings={settings} />
        ))}
      </div>
    </>
  );
}

function Datasets({ run }: { run: Run }) {
  if (run.inputs.length === 0) return <p className="muted">This run logged no datasets.</p>;
  return (
    <table className="grid" aria-label="Datasets">
      <thead>
        <tr>
          <th>Name</th>
          <th>Digest</th>
          <th>Context</th>
          <th>Source</th>
          <th>Schema</th>
        </tr>
      </thead>
      <tbody>
        {run.inputs.map(({ dataset, context }, index) => (
          <tr key={index}>
            <td>{dataset.name}</td>
            <td>
              <code>{dataset.digest}</code>
            </td>
            <td>{context}</td>
            <td>
              {dataset.source_type} {dataset.source}
            </td>
            <td>
              <code>{JSON.stringify(dataset.schema)}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
