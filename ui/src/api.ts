// The REST API (docs/rest-api.md) as typed functions. The UI talks to nothing else.

import { quoteLiteral } from "./format";
import { currentUser } from "./settings";

export type Num = number | "NaN" | "Infinity" | "-Infinity";

export interface Experiment {
  id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  creation_time: number;
  last_update_time: number;
  tags: Record<string, string>;
}

export interface Dataset {
  name: string;
  digest: string;
  source_type: string;
  source: string;
  schema: Record<string, unknown>;
  profile: Record<string, unknown>;
}

export interface Run {
  id: string;
  experiment_id: string;
  name: string;
  status: string;
  start_time: number;
  end_time: number | null;
  user: string;
  source: string;
  git_commit: string | null;
  parent_run_id: string | null;
  lifecycle_stage: string;
  artifact_uri: string;
  params: Record<string, string>;
  metrics: Record<string, Num>;
  tags: Record<string, string>;
  inputs: { dataset: Dataset; context: string }[];
}

export interface MetricPoint {
  key: string;
  value: Num;
  timestamp: number;
  step: number;
}

export interface FileInfo {
  path: string;
  is_dir: boolean;
  size: number | null;
  sha256: string | null;
}

export interface RegisteredModel {
  name: string;
  description: string;
  owner: string;
  created_at: number;
  updated_at: number;
  lifecycle_stage: string;
  tags: Record<string, string>;
  aliases: Record<string, number>;
  protected_aliases: string[];
  allow_self_approval: boolean;
  latest_version: number | null;
  label_revision: number;
}

export interface ModelVersion {
  name: string;
  version: number;
  source: string;
  run_id: string | null;
  artifact_path: string;
  status: string;
  description: string;
  stage: string;
  signature: string | null;
  created_by: string;
  created_at: number;
  tags: Record<string, string>;
  aliases: string[];
}

export interface TransitionRequest {
  id: number;
  name: string;
  version: number;
  target: string;
  status: string;
  requested_by: string;
  created_at: number;
  comment: string;
  resolved_by: string | null;
  resolved_at: number | null;
  resolution_comment: string;
}

export interface AuditEvent {
  id: number;
  at: number;
  actor: string;
  action: string;
  model: string | null;
  version: number | null;
  before: unknown;
  after: unknown;
  reason: string;
  outcome: string;
}

export interface LineageGraph {
  root: string;
  nodes: { id: string; kind: string; label: string; attributes: Record<string, unknown> }[];
  edges: { source: string; target: string; relation: string }[];
}

export interface ExperimentStats {
  experiment_id: string;
  active_runs: number;
  deleted_runs: number;
  last_activity: number;
}

export interface TablePreview {
  columns: { name: string; type: string }[];
  rows: (string | number | boolean | null)[][];
  total_rows: number;
  total_columns: number;
}

export interface SpecRow {
  name: string;
  type: string;
  detail: string;
}

/** A model folder's manifest (heron-model.yaml or MLflow's MLmodel), as the server reads it. */
export interface ModelManifest {
  format: "heron" | "mlflow";
  manifest_path: string;
  flavors: { name: string; config: unknown }[];
  signature: { inputs: SpecRow[]; outputs: SpecRow[]; params: SpecRow[] } | null;
  environment: Record<string, unknown>;
  metadata: unknown;
  created_at: string;
  files: number | null;
  size: number | null;
}

/** An error answer of the API: `{"error": {code, message, position?}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly reason?: string,
    readonly position?: number,
    readonly text?: string,
  ) {
    super(message);
  }
}

const API = "/api/v1";

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { "X-Heron-User": currentUser() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(API + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  if (!response.ok) {
    let error: { code?: string; message?: string; reason?: string; position?: number; text?: string } = {};
    try {
      error = ((await response.json()) as { error?: typeof error }).error ?? {};
    } catch {
      // not JSON: a proxy's page; the status says enough
    }
    throw new ApiError(
      response.status,
      error.code ?? "HTTP_" + response.status,
      error.message ?? response.statusText,
      error.reason,
      error.position,
      error.text,
    );
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

const enc = encodeURIComponent;

function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? "?" + text : "";
}

export const api = {
  listExperiments: (nameLike: string, pageToken?: string) =>
    request<{ experiments: Experiment[]; next_page_token: string | null }>(
      "GET",
      "/experiments" + query({ name_like: nameLike ? `%${nameLike}%` : undefined, max_results: 200, page_token: pageToken }),
    ),
  experimentStats: (ids: string[]) =>
    request<{ stats: ExperimentStats[] }>(
      "GET",
      "/experiment-stats?" + new URLSearchParams(ids.map((id) => ["experiment_id", id])).toString(),
    ),
  getExperiment: (id: string) => request<Experiment>("GET", `/experiments/${enc(id)}`),
  searchRuns: (
    body: { experiment_ids: string[]; filter?: string; order_by?: string[]; max_results?: number; page_token?: string | null; view?: string },
    signal?: AbortSignal,
  ) => request<{ runs: Run[]; next_page_token: string | null }>("POST", "/runs/search", body, signal),
  getRun: (id: string) => request<Run>("GET", `/runs/${enc(id)}`),
  deleteRun: (id: string) => request<void>("DELETE", `/runs/${enc(id)}`),
  restoreRun: (id: string) => request<void>("POST", `/runs/${enc(id)}/restore`),
  metricHistory: (runId: string, key: string, maxPoints: number, signal?: AbortSignal) =>
    request<{ metrics: MetricPoint[] }>(
      "GET",
      `/runs/${enc(runId)}/metrics/${key.split("/").map(enc).join("/")}/history` + query({ max_points: maxPoints }),
      undefined,
      signal,
    ),
  listArtifacts: (runId: string, path: string) =>
    request<{ files: FileInfo[] }>("GET", `/runs/${enc(runId)}/artifacts` + query({ path })),
  tablePreview: (runId: string, path: string, rows: number) =>
    request<TablePreview>("GET", `/runs/${enc(runId)}/artifacts/table-preview` + query({ path, rows })),
  modelManifest: (runId: string, path: string) =>
    request<ModelManifest>("GET", `/runs/${enc(runId)}/artifacts/model-manifest` + query({ path })),
  artifactUrl: (runId: string, path: string) => `${API}/runs/${enc(runId)}/artifacts/content` + query({ path }),
  listModels: (filter: string) =>
    request<{ models: RegisteredModel[] }>("GET", "/registered-models" + query({ filter, max_results: 500 })),
  getModel: (name: string) => request<RegisteredModel>("GET", `/registered-models/${enc(name)}`),
  listVersions: (name: string) =>
    request<{ versions: ModelVersion[] }>(
      "GET",
      "/model-versions" + query({ filter: `name = ${quoteLiteral(name)}`, order_by: "version DESC", max_results: 500 }),
    ),
  listRequests: (name: string, status?: string) =>
    request<{ requests: TransitionRequest[] }>("GET", `/registered-models/${enc(name)}/requests` + query({ status })),
  decide: (name: string, id: number, decision: "approve" | "reject" | "cancel", comment: string) =>
    request<TransitionRequest>("POST", `/registered-models/${enc(name)}/requests/${id}/${decision}`, { comment }),
  modelHistory: (name: string) =>
    request<{ events: AuditEvent[] }>("GET", `/registered-models/${enc(name)}/history` + query({ limit: 500 })),
  lineage: (target: string) => request<LineageGraph>("GET", "/lineage" + query({ target })),
};

/** A metric value as a number (the API sends non-finite values as strings). */
export function toNumber(value: Num | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "number") return value;
  return value === "NaN" ? NaN : value === "Infinity" ? Infinity : -Infinity;
}
