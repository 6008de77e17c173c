import type { LineageGraph as Graph } from "../api";
import { navigate } from "../router";

const NODE_WIDTH = 200;
const NODE_HEIGHT = 44;
const LAYER_GAP = 80;
const ROW_GAP = 16;

/** Each node's layer: the length of the longest edge path that reaches it, so that every
 * edge points to the right (edges run downstream: dataset -> run -> model version). */
export function layers(graph: Graph): Map<string, number> {
  const layer = new Map(graph.nodes.map((node) => [node.id, 0]));
  // Bellman-Ford style relaxation; the graph is a DAG, so |nodes| rounds suffice.
  for (let round = 0; round < graph.nodes.length; round++) {
    let changed = false;
    for (const edge of graph.edges) {
      const next = (layer.get(edge.source) ?? 0) + 1;
      if (layer.has(edge.target) && next > layer.get(edge.target)! && next <= graph.nodes.length) {
        layer.set(edge.target, next);
        changed = true;
      }
    }
    if (!changed) break;
  }
  return layer;
}

function linkOf(node: Graph["nodes"][number]): string | undefined {
  if (node.kind === "run" && typeof node.attributes.run_id === "string") return `/runs/${encodeURIComponent(node.attributes.run_id)}`;
  if (node.kind === "model_version" && typeof node.attributes.name === "string")
    return `/models/${encodeURIComponent(node.attributes.name)}?version=${String(node.attributes.version)}`;
  return undefined;
}

/** The lineage graph drawn as layered boxes and arrows (SVG; labels are text nodes). */
export function LineageGraph({ graph }: { graph: Graph }) {
  const layer = layers(graph);
  const columns: string[][] = [];
  for (const node of graph.nodes) (columns[layer.get(node.id)!] ??= []).push(node.id);
  const position = new Map<string, { x: number; y: number }>();
  columns.forEach((ids, column) =>
    ids.forEach((id, row) => position.set(id, { x: 10 + column * (NODE_WIDTH + LAYER_GAP), y: 10 + row * (NODE_HEIGHT + ROW_GAP) })),
  );
  const width = 20 + columns.length * (NODE_WIDTH + LAYER_GAP) - LAYER_GAP;
  const height = 20 + Math.max(1, ...columns.map((ids) => ids.length)) * (NODE_HEIGHT + ROW_GAP) - ROW_GAP;
  return (
    <svg className="lineage" width={width} height={height} role="img" aria-label="Lineage graph">
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" className="arrow-head" />
        </marker>
      </defs>
      {graph.edges.map((edge, i) => {
        const from = position.get(edge.source);
        const to = position.get(edge.target);
        if (!from || !to) return null;
        const x1 = from.x + NODE_WIDTH;
        const y1 = from.y + NODE_HEIGHT / 2;
        const x2 = to.x;
        const y2 = to.y + NODE_HEIGHT / 2;
        const mid = (x1 + x2) / 2;
        return (
          <g key={i}>
            <path className="edge" d={`M ${x1} ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${x2} ${y2}`} markerEnd="url(#arrow)" />
            <title>{edge.relation}</title>
          </g>
        );
      })}
      {graph.nodes.map((node) => {
        const at = position.get(node.id)!;
        const target = linkOf(node);
        return (
          <g
            key={node.id}
            className={`node ${node.kind}${node.id === graph.root ? " root" : ""}${target ? " clickable" : ""}`}
            transform={`translate(${at.x}, ${at.y})`}
            onClick={target ? () => navigate(target) : undefined}
          >
            <rect width={NODE_WIDTH} height={NODE_HEIGHT} rx={6} />
            <text x={8} y={17} className="kind">
              {node.kind.replace("_", " ")}
            </text>
            <text x={8} y={34} className="label">
              {node.label.length > 26 ? node.label.slice(0, 25) + "…" : node.label}
            </text>
            <title>{node.label}</title>
          </g>
        );
      })}
    </svg>
  );
}
