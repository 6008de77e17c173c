import { useMemo } from "react";
import type { Run } from "../api";
import { formatNumber } from "../format";
import { buildAxis, rampColor } from "../plotAxes";
import { columnLabel, columnValue, type Column } from "../runColumns";

const HEIGHT = 420;
const MARGIN = { left: 90, right: 90, top: 36, bottom: 28 };
const AXIS_GAP = 170;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;

/** Params (and any other columns) against a metric: one vertical axis per column, the
 * metric's axis last, and one line per run through its values, coloured by the metric
 * (blue low, red high). A run missing any of the values draws no line. Plain SVG, so
 * each line shows its run on hover and opens it on click. */
export function ParallelCoordinates({
  runs,
  columns,
  metric,
  onOpen,
}: {
  runs: Run[];
  columns: Column[];
  metric: Column;
  onOpen: (runId: string) => void;
}) {
  const all = useMemo(() => [...columns.filter((c) => c.id !== metric.id), metric], [columns, metric]);
  const width = MARGIN.left + MARGIN.right + AXIS_GAP * Math.max(1, all.length - 1);
  const { axes, lines } = useMemo(() => {
    // Only runs with every value draw a line, and the axes span only theirs.
    const complete = runs.filter((run) => all.every((column) => columnValue(run, column) !== undefined));
    const values = all.map((column) => complete.map((run) => columnValue(run, column)));
    const axes = all.map((column, a) => buildAxis(columnLabel(column), values[a]));
    const metricAxis = axes[axes.length - 1];
    const lines = complete.flatMap((run, r) => {
      const positions = axes.map((axis, a) => axis.position(values[a][r]));
      if (positions.some((p) => p === undefined)) return [];
      const path = positions.map((p, a) => `${a ? "L" : "M"}${MARGIN.left + a * AXIS_GAP},${MARGIN.top + (1 - p!) * PLOT_H}`).join("");
      const last = values[values.length - 1][r];
      const described = all.map((column, a) => {
        const value = values[a][r];
        return `${columnLabel(column)} = ${typeof value === "number" ? formatNumber(value) : value}`;
      });
      return [{ run, path, color: rampColor(metricAxis.position(last) ?? 0), title: `${run.name || run.id.slice(0, 8)}\n${described.join("\n")}` }];
    });
    return { axes, lines };
  }, [runs, all]);
  return (
    <figure className="runs-plot">
      <svg
        className="parallel-coordinates"
        role="img"
        aria-label={`Parallel coordinates of ${axes.map((a) => a.label).join(", ")}`}
        viewBox={`0 0 ${width} ${HEIGHT}`}
        style={{ maxWidth: width }}
        data-lines={lines.length}
      >
        {lines.map(({ run, path, color, title }) => (
          <path key={run.id} className="run-line" data-run-id={run.id} d={path} stroke={color} onClick={() => onOpen(run.id)}>
            <title>{title}</title>
          </path>
        ))}
        {axes.map((axis, a) => {
          const x = MARGIN.left + a * AXIS_GAP;
          return (
            <g key={all[a].id} className="axis" data-axis={axis.label}>
              <line x1={x} x2={x} y1={MARGIN.top} y2={MARGIN.top + PLOT_H} />
              <text className="axis-label" x={x} y={MARGIN.top - 14} textAnchor="middle">
                {axis.label}
              </text>
              {axis.ticks.map((tick) => (
                <text key={tick.at} className="tick" x={x + 5} y={MARGIN.top + (1 - tick.at) * PLOT_H + 4}>
                  {tick.text}
                </text>
              ))}
            </g>
          );
        })}
      </svg>
      <figcaption className="muted">
        {lines.length} of {runs.length} runs have every value; hover a line to see its run, click to open it.
      </figcaption>
    </figure>
  );
}
