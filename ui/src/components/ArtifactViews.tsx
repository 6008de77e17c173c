// Artifact previews that the server reads: the first rows of a Parquet file, and a model
// folder's manifest (flavors, signature, environment). Every value is rendered as text.

import { api, type ModelManifest, type SpecRow } from "../api";
import { formatBytes } from "../format";
import { useAsync } from "../hooks";
import { Status } from "./Status";

const PARQUET_ROWS = 100;

function text(value: unknown): string {
  if (value === null || value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

export function ParquetPreview({ runId, path }: { runId: string; path: string }) {
  const loaded = useAsync(() => api.tablePreview(runId, path, PARQUET_ROWS), [runId, path]);
  const preview = loaded.data;
  if (!preview) return <Status loaded={loaded} />;
  return (
    <div className="parquet-preview">
      <p className="muted">
        First {preview.rows.length} of {preview.total_rows.toLocaleString("en")} rows
        {preview.total_columns > preview.columns.length && `; first ${preview.columns.length} of ${preview.total_columns} columns`}.
      </p>
      <div className="table-scroll">
        <table className="grid" aria-label="Parquet preview">
          <thead>
            <tr>
              {preview.columns.map((column, i) => (
                <th key={i} title={column.type}>
                  {column.name} <span className="muted column-type">{column.type}</span>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {preview.rows.map((row, r) => (
              <tr key={r}>
                {row.map((value, i) => (
                  <td key={i} className={typeof value === "number" ? "number" : value === null ? "missing" : undefined}>
                    {value === null ? "null" : String(value)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

/** The model in the folder of ``manifestPath`` (a heron-model.yaml or MLmodel file). */
export function ModelManifestView({ runId, manifestPath }: { runId: string; manifestPath: string }) {
  const folder = manifestPath.includes("/") ? manifestPath.slice(0, manifestPath.lastIndexOf("/")) : "";
  const loaded = useAsync(() => api.modelManifest(runId, folder), [runId, folder]);
  const manifest = loaded.data;
  if (!manifest) return <Status loaded={loaded} />;
  return (
    <div className="model-manifest">
      <table className="grid kv" aria-label="Model">
        <tbody>
          <tr>
            <th>Format</th>
            <td>{manifest.format === "heron" ? "Heron model (heron-model.yaml)" : "MLflow model (MLmodel)"}</td>
          </tr>
          <tr>
            <th>Flavors</th>
            <td className="flavors">{manifest.flavors.map((flavor) => flavor.name).join(", ")}</td>
          </tr>
          {manifest.created_at && (
            <tr>
              <th>Created</th>
              <td>{manifest.created_at}</td>
            </tr>
          )}
          {manifest.files !== null && (
            <tr>
              <th>Files</th>
              <td>
                {manifest.files} ({formatBytes(manifest.size)}), hashed in the manifest
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <h4>Signature</h4>
      {manifest.signature ? (
        <>
          <SpecTable label="Inputs" rows={manifest.signature.inputs} />
          <SpecTable label="Outputs" rows={manifest.signature.outputs} />
          {manifest.signature.params.length > 0 && <SpecTable label="Params" rows={manifest.signature.params} />}
        </>
      ) : (
        <p className="muted">No signature: inputs are not checked when the model is served.</p>
      )}
      <h4>Environment</h4>
      <Environment environment={manifest.environment} />
      <details>
        <summary>Flavor settings</summary>
        {manifest.flavors.map((flavor) => (
          <div key={flavor.name}>
            <h5>{flavor.name}</h5>
            <pre className="artifact-text">{JSON.stringify(flavor.config, null, 2)}</pre>
          </div>
        ))}
      </details>
    </div>
  );
}

function SpecTable({ label, rows }: { label: string; rows: SpecRow[] }) {
  return (
    <table className="grid signature" aria-label={`Signature ${label.toLowerCase()}`}>
      <caption>{label}</caption>
      <thead>
        <tr>
          <th>Name</th>
          <th>Type</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 && (
          <tr>
            <td colSpan={3} className="muted">
              none declared
            </td>
          </tr>
        )}
        {rows.map((row, i) => (
          <tr key={i}>
            <td>{row.name}</td>
            <td>{row.type}</td>
            <td className="muted">{row.detail}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Environment({ environment }: { environment: ModelManifest["environment"] }) {
  const packages = environment.packages;
  const requirements = environment.requirements;
  const lines: string[] =
    packages && typeof packages === "object"
      ? Object.entries(packages as Record<string, unknown>).map(([name, version]) => `${name}==${text(version)}`)
      : Array.isArray(requirements)
        ? requirements.map(text)
        : [];
  return (
    <table className="grid kv" aria-label="Environment">
      <tbody>
        <tr>
          <th>Python</th>
          <td>{text(environment.python) || "not recorded"}</td>
        </tr>
        <tr>
          <th>Packages</th>
          <td>{lines.length ? <pre className="requirements">{lines.join("\n")}</pre> : <span className="muted">none recorded</span>}</td>
        </tr>
      </tbody>
    </table>
  );
}
