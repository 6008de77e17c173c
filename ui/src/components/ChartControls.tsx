import { updateQuery } from "../router";

export interface ChartSettings {
  logScale: boolean;
  smoothing: number;
  x: "step" | "time";
}

/** Chart settings, kept in the URL (log=1, smooth=0.6, x=time). */
export function readChartSettings(query: URLSearchParams): ChartSettings {
  const smoothing = Number(query.get("smooth") ?? "0");
  return {
    logScale: query.get("log") === "1",
    smoothing: Number.isFinite(smoothing) ? Math.min(0.99, Math.max(0, smoothing)) : 0,
    x: query.get("x") === "time" ? "time" : "step",
  };
}

export function ChartControls({ settings }: { settings: ChartSettings }) {
  return (
    <div className="chart-controls">
      <label>
        <input type="checkbox" checked={settings.logScale} onChange={(e) => updateQuery({ log: e.target.checked ? "1" : "" })} /> Log scale
      </label>
      <label>
        Smoothing{" "}
        <input
          type="range"
          aria-label="Smoothing"
          min={0}
          max={0.99}
          step={0.01}
          value={settings.smoothing}
          onChange={(e) => updateQuery({ smooth: e.target.value === "0" ? "" : e.target.value })}
        />{" "}
        {settings.smoothing.toFixed(2)}
      </label>
      <label>
        X axis{" "}
        <select value={settings.x} onChange={(e) => updateQuery({ x: e.target.value === "step" ? "" : e.target.value })}>
          <option value="step">step</option>
          <option value="time">time</option>
        </select>
      </label>
    </div>
  );
}
