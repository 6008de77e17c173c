import type { Run } from "../api";
import { href, navigate, readList, updateQuery, writeList } from "../router";
import { columnLabel, parseColumn, type Column } from "../runColumns";
import { ParallelCoordinates } from "./ParallelCoordinates";
import { ScatterPlot } from "./ScatterPlot";

export type Panel = "table" | "scatter" | "parallel";

export function readPanel(query: URLSearchParams): Panel {
  const panel = query.get("panel");
  return panel === "scatter" || panel === "parallel" ? panel : "table";
}

interface Props {
  panel: "scatter" | "parallel";
  runs: Run[];
  /** Column ids the runs have values in (metrics:, params:, tags:). */
  offered: string[];
  sortColumn: string;
  query: URLSearchParams;
}

/** The scatter plot or parallel-coordinates view of the table's (filtered) runs, with the
 * axes chosen in the URL: sx / sy for the scatter plot, pc (axes) and pm (the metric) for
 * parallel coordinates. */
export function RunsPlots({ panel, runs, offered, sortColumn, query }: Props) {
  const metrics = offered.filter((id) => id.startsWith("metrics:"));
  const params = offered.filter((id) => id.startsWith("params:"));
  const choices = [...metrics, ...params, ...offered.filter((id) => id.startsWith("tags:"))];
  const sortedMetric = sortColumn.startsWith("metrics:") ? sortColumn : metrics[0];
  const open = (runId: string) => navigate(href(`/runs/${encodeURIComponent(runId)}`));
  if (metrics.length === 0) return <p className="muted">These runs have no metrics to plot.</p>;

  if (panel === "scatter") {
    const x = parseColumn(query.get("sx") ?? params[0] ?? metrics[1] ?? metrics[0]);
    const y = parseColumn(query.get("sy") ?? sortedMetric);
    return (
      <div className="plot-panel">
        <div className="toolbar">
          <ColumnSelect label="Scatter X" choices={choices} value={x?.id} onChange={(id) => updateQuery({ sx: id })} />
          <ColumnSelect label="Scatter Y" choices={choices} value={y?.id} onChange={(id) => updateQuery({ sy: id })} />
        </div>
        {x && y && <ScatterPlot runs={runs} x={x} y={y} onOpen={open} />}
      </div>
    );
  }

  const axes = (query.has("pc") ? readList(query, "pc") : params.slice(0, 4))
    .map(parseColumn)
    .filter((c): c is Column => c !== undefined);
  const metric = parseColumn(query.get("pm") ?? sortedMetric);
  const axisIds = axes.map((c) => c.id);
  return (
    <div className="plot-panel">
      <div className="toolbar">
        <ColumnSelect label="Colour by metric" choices={metrics} value={metric?.id} onChange={(id) => updateQuery({ pm: id })} />
        <fieldset className="axis-picker">
          <legend>Axes</legend>
          {[...params, ...offered.filter((id) => id.startsWith("tags:")), ...metrics]
            .filter((id) => id !== metric?.id)
            .map((id) => (
              <label key={id}>
                <input
                  type="checkbox"
                  checked={axisIds.includes(id)}
                  onChange={(event) =>
                    updateQuery({ pc: writeList(event.target.checked ? [...axisIds, id] : axisIds.filter((other) => other !== id)) || "," })
                  }
                />{" "}
                {columnLabel(parseColumn(id)!)}
              </label>
            ))}
        </fieldset>
      </div>
      {metric && <ParallelCoordinates runs={runs} columns={axes} metric={metric} onOpen={open} />}
    </div>
  );
}

function ColumnSelect({ label, choices, value, onChange }: { label: string; choices: string[]; value: string | undefined; onChange: (id: string) => void }) {
  return (
    <label>
      {label}{" "}
      <select aria-label={label} value={value ?? ""} onChange={(event) => onChange(event.target.value)}>
        {value !== undefined && !choices.includes(value) && <option value={value}>{value}</option>}
        {choices.map((id) => (
          <option key={id} value={id}>
            {columnLabel(parseColumn(id)!)}
          </option>
        ))}
      </select>
    </label>
  );
}
