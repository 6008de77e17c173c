import { useEffect, useRef } from "react";
import uPlot from "uplot";
import { align, type Series } from "../chartData";

const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

interface Props {
  title: string;
  series: Series[];
  logScale: boolean;
  smoothing: number;
  x: "step" | "time";
  height?: number;
}

/** A line chart of one metric for several runs (uPlot on a canvas: drag to zoom,
 * double-click to reset). */
export function MetricChart({ title, series, logScale, smoothing, x, height = 280 }: Props) {
  const holder = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = holder.current;
    if (!element) return;
    const options: uPlot.Options = {
      title,
      width: Math.max(300, element.clientWidth),
      height,
      scales: { x: { time: x === "time" }, y: logScale ? { distr: 3 } : {} },
      series: [
        { label: x === "step" ? "step" : "time" },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: COLORS[i % COLORS.length],
          width: 1.5,
          spanGaps: true,
          // A series of a few points (a final metric logged once) is drawn as dots.
          points: { show: s.xs.length < 50, size: 6 },
        })),
      ],
      axes: [{}, { size: 60 }],
      legend: { live: true },
    };
    const plot = new uPlot(options, align(series, smoothing, logScale), element);
    const observer = new ResizeObserver(() => plot.setSize({ width: Math.max(300, element.clientWidth), height }));
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [title, series, logScale, smoothing, x, height]);
  return <div className="metric-chart" ref={holder} data-series={series.length} data-points={series.reduce((n, s) => n + s.xs.length, 0)} />;
}
