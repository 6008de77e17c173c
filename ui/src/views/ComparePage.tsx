import { api, type Num, type Run } from "../api";
import { ChartControls, readChartSettings } from "../components/ChartControls";
import { Link } from "../components/Link";
import { MetricHistories, prefetchHistories } from "../components/MetricHistories";
import { Status } from "../components/Status";
import { formatNumber } from "../format";
import { useAsync } from "../hooks";
import { readList, updateQuery, useLocation, writeList } from "../router";

/** Runs side by side: params and metrics in columns (rows whose values differ are
 * highlighted) and the metrics' histories overlaid. */
export function ComparePage() {
  const { query } = useLocation();
  const runIds = readList(query, "runs");
  const loaded = useAsync(() => {
    // Charts named in the URL need only the run ids: their histories load with the runs.
    if (query.has("charts")) prefetchHistories(runIds, readList(query, "charts"));
    return Promise.all(runIds.map((id) => api.getRun(id)));
  }, [runIds.join(",")]);
  const runs = loaded.data;
  if (runIds.length === 0) return <p>Select runs to compare in a runs table.</p>;
  if (!runs) return <Status loaded={loaded} />;
  const metricKeys = [...new Set(runs.flatMap((run) => Object.keys(run.metrics)))].sort();
  const charted = query.has("charts") ? readList(query, "charts").filter((key) => metricKeys.includes(key)) : metricKeys.slice(0, 4);
  const settings = readChartSettings(query);
  return (
    <section className="compare-page">
      <h1>Comparing {runs.length} runs</h1>
      <label className="only-differences">
        <input
          type="checkbox"
          checked={query.get("diff") === "1"}
          onChange={(e) => updateQuery({ diff: e.target.checked ? "1" : "" })}
        />{" "}
        Only rows that differ
      </label>
      <CompareTable
        title="Params"
        runs={runs}
        keys={[...new Set(runs.flatMap((run) => Object.keys(run.params)))].sort()}
        value={(run, key) => run.params[key]}
        onlyDifferences={query.get("diff") === "1"}
      />
      <CompareTable
        title="Metrics"
        runs={runs}
        keys={metricKeys}
        value={(run, key) => (key in run.metrics ? formatNumber(run.metrics[key] as Num) : undefined)}
        onlyDifferences={query.get("diff") === "1"}
      />
      <h2>Charts</h2>
      <div className="chart-picker">
        {metricKeys.map((key) => (
          <label key={key}>
            <input
              type="checkbox"
              checked={charted.includes(key)}
              onChange={(e) =>
                updateQuery({ charts: writeList(e.target.checked ? [...charted, key] : charted.filter((k) => k !== key)) || "," })
              }
            />{" "}
            {key}
          </label>
        ))}
      </div>
      <ChartControls settings={settings} />
      <div className="charts">
        {charted.map((key) => (
          <MetricHistories key={key} metric={key} runs={runs} settings={settings} />
        ))}
      </div>
    </section>
  );
}

function CompareTable({
  title,
  runs,
  keys,
  value,
  onlyDifferences,
}: {
  title: string;
  runs: Run[];
  keys: string[];
  value: (run: Run, key: string) => string | undefined;
  onlyDifferences: boolean;
}) {
  const rows = keys
    .map((key) => {
      const values = runs.map((run) => value(run, key));
      return { key, values, differs: new Set(values).size > 1 };
    })
    .filter((row) => row.differs || !onlyDifferences);
  return (
    <>
      <h2>{title}</h2>
      <table className="grid compare" aria-label={title}>
        <thead>
          <tr>
            <th />
            {runs.map((run) => (
              <th key={run.id}>
                <Link to={`/runs/${encodeURIComponent(run.id)}`}>{run.name || run.id.slice(0, 8)}</Link>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.key} className={row.differs ? "differs" : undefined}>
              <th>{row.key}</th>
              {row.values.map((v, i) => (
                <td key={i} className={v === undefined ? "missing" : undefined}>
                  {v ?? "—"}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
