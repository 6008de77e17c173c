import { useMemo } from "react";
import type { Run } from "../api";
import { formatNumber } from "../format";
import { buildAxis, type Axis } from "../plotAxes";
import { columnLabel, columnValue, type Column } from "../runColumns";

const WIDTH = 760;
const HEIGHT = 420;
const MARGIN = { left: 80, right: 24, top: 16, bottom: 56 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;

function show(value: string | number | undefined): string {
  return typeof value === "number" ? formatNumber(value) : (value ?? "");
}

/** One dot per run at (x column, y column); a run without either value is left out.
 * Plain SVG: a few thousand dots draw in well under a frame, and each dot is an element
 * that can carry its run's name as a tooltip and open the run when clicked. */
export function ScatterPlot({ runs, x, y, onOpen }: { runs: Run[]; x: Column; y: Column; onOpen: (runId: string) => void }) {
  const { xAxis, yAxis, points } = useMemo(() => {
    // Axes span the runs that have both values, so a run without the metric cannot turn
    // a numeric param axis into a list of categories.
    const both = runs.filter((run) => columnValue(run, x) !== undefined && columnValue(run, y) !== undefined);
    const xs = both.map((run) => columnValue(run, x));
    const ys = both.map((run) => columnValue(run, y));
    const xAxis = buildAxis(columnLabel(x), xs);
    const yAxis = buildAxis(columnLabel(y), ys);
    const points = both.flatMap((run, i) => {
      const px = xAxis.position(xs[i]);
      const py = yAxis.position(ys[i]);
      if (px === undefined || py === undefined) return [];
      return [{ run, cx: MARGIN.left + px * PLOT_W, cy: MARGIN.top + (1 - py) * PLOT_H, label: `${show(xs[i])}, ${show(ys[i])}` }];
    });
    return { xAxis, yAxis, points };
  }, [runs, x, y]);
  return (
    <figure className="runs-plot">
      <svg
        className="scatter-plot"
        role="img"
        aria-label={`Scatter plot of ${yAxis.label} against ${xAxis.label}`}
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        data-points={points.length}
      >
        <XAxis axis={xAxis} />
        <YAxis axis={yAxis} />
        {points.map(({ run, cx, cy, label }) => (
          <circle key={run.id} className="point" data-run-id={run.id} cx={cx} cy={cy} r={5} onClick={() => onOpen(run.id)}>
            <title>{`${run.name || run.id.slice(0, 8)}: ${label}`}</title>
          </circle>
        ))}
      </svg>
      <figcaption className="muted">
        {points.length} of {runs.length} runs have both values; click a dot to open its run.
      </figcaption>
    </figure>
  );
}

function XAxis({ axis }: { axis: Axis }) {
  const y = MARGIN.top + PLOT_H;
  return (
    <g className="axis">
      <line x1={MARGIN.left} x2={MARGIN.left + PLOT_W} y1={y} y2={y} />
      {axis.ticks.map((tick) => (
        <text key={tick.at} x={MARGIN.left + tick.at * PLOT_W} y={y + 18} textAnchor="middle">
          {tick.text}
        </text>
      ))}
      <text className="axis-label" x={MARGIN.left + PLOT_W / 2} y={HEIGHT - 8} textAnchor="middle">
        {axis.label}
      </text>
    </g>
  );
}

function YAxis({ axis }: { axis: Axis }) {
  return (
    <g className="axis">
      <line x1={MARGIN.left} x2={MARGIN.left} y1={MARGIN.top} y2={MARGIN.top + PLOT_H} />
      {axis.ticks.map((tick) => (
        <text key={tick.at} x={MARGIN.left - 6} y={MARGIN.top + (1 - tick.at) * PLOT_H + 4} textAnchor="end">
          {tick.text}
        </text>
      ))}
      <text className="axis-label" transform={`translate(14 ${MARGIN.top + PLOT_H / 2}) rotate(-90)`} textAnchor="middle">
        {axis.label}
      </text>
    </g>
  );
}
