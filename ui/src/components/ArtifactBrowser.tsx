import { useEffect, useState } from "react";
import { api, type FileInfo } from "../api";
import { delimiterOf, imageType, MAX_PREVIEW_BYTES, parseDelimited, previewKind } from "../artifactKinds";
import { formatBytes } from "../format";
import { useAsync } from "../hooks";
import { updateQuery, useLocation } from "../router";
import { ModelManifestView, ParquetPreview } from "./ArtifactViews";
import { Status } from "./Status";

const MAX_TABLE_ROWS = 500;

/** A run's artifacts: folders open in place, a chosen file is previewed when its kind is
 * safe to show (images, text, JSON, CSV, Parquet, model manifests), and every file can be
 * downloaded. */
export function ArtifactBrowser({ runId }: { runId: string }) {
  const { query } = useLocation();
  const chosen = query.get("file") ?? "";
  return (
    <div className="artifacts">
      <div className="artifact-tree" aria-label="Artifact files">
        <Folder runId={runId} path="" chosen={chosen} />
      </div>
      <div className="artifact-preview">{chosen ? <Preview runId={runId} path={chosen} /> : <p className="muted">Choose a file.</p>}</div>
    </div>
  );
}

function Folder({ runId, path, chosen }: { runId: string; path: string; chosen: string }) {
  const loaded = useAsync(() => api.listArtifacts(runId, path), [runId, path]);
  const [open, setOpen] = useState<Set<string>>(new Set());
  if (!loaded.data) return <Status loaded={loaded} />;
  if (loaded.data.files.length === 0 && path === "") return <p className="muted">No artifacts.</p>;
  return (
    <ul>
      {loaded.data.files.map((file: FileInfo) => {
        const name = file.path.split("/").pop();
        if (file.is_dir) {
          const isOpen = open.has(file.path);
          return (
            <li key={file.path}>
              <button
                className="link-button"
                aria-expanded={isOpen}
                onClick={() => {
                  const next = new Set(open);
                  if (isOpen) next.delete(file.path);
                  else next.add(file.path);
                  setOpen(next);
                }}
              >
                {isOpen ? "▾" : "▸"} {name}/
              </button>
              {isOpen && <Folder runId={runId} path={file.path} chosen={chosen} />}
            </li>
          );
        }
        return (
          <li key={file.path}>
            <button
              className={"link-button" + (file.path === chosen ? " chosen" : "")}
              onClick={() => updateQuery({ file: file.path })}
            >
              {name}
            </button>{" "}
            <span className="muted">{formatBytes(file.size)}</span>
          </li>
        );
      })}
    </ul>
  );
}

function Preview({ runId, path }: { runId: string; path: string }) {
  const url = api.artifactUrl(runId, path);
  const kind = previewKind(path);
  const name = path.split("/").pop() ?? path;
  return (
    <div>
      <h3 className="artifact-name">{path}</h3>
      <a className="download" href={url} download={name}>
        Download
      </a>
      {kind === "none" ? (
        <p className="muted">No preview for this kind of file; download it to open it.</p>
      ) : kind === "parquet" ? (
        <ParquetPreview runId={runId} path={path} />
      ) : kind === "model" ? (
        <>
          <ModelManifestView runId={runId} manifestPath={path} />
          <details className="raw-manifest">
            <summary>{name} as written</summary>
            <Content url={url} path={path} kind="text" />
          </details>
        </>
      ) : (
        <Content url={url} path={path} kind={kind} />
      )}
    </div>
  );
}

function Content({ url, path, kind }: { url: string; path: string; kind: ReturnType<typeof previewKind> }) {
  const loaded = useAsync(
    async (signal) => {
      const response = await fetch(url, { signal });
      if (!response.ok) throw new Error(`could not read ${path}: HTTP ${response.status}`);
      const size = Number(response.headers.get("content-length") ?? "0");
      if (size > MAX_PREVIEW_BYTES) return { tooLarge: true as const };
      return { blob: await response.blob() };
    },
    [url],
  );
  const [imageUrl, setImageUrl] = useState<string>();
  const [text, setText] = useState<string>();
  useEffect(() => {
    const data = loaded.data;
    if (!data || "tooLarge" in data) return;
    if (kind === "image") {
      // The API sends application/octet-stream; give the browser the image type so it
      // decodes it, from a blob: URL the CSP allows for images only.
      const objectUrl = URL.createObjectURL(new Blob([data.blob], { type: imageType(path) }));
      setImageUrl(objectUrl);
      return () => URL.revokeObjectURL(objectUrl);
    }
    let live = true;
    void data.blob.text().then((value) => live && setText(value));
    return () => {
      live = false;
    };
  }, [loaded.data, kind, path]);

  if (!loaded.data) return <Status loaded={loaded} />;
  if ("tooLarge" in loaded.data) return <p className="muted">Too large to preview; download it.</p>;
  if (kind === "image") return imageUrl ? <img className="artifact-image" src={imageUrl} alt={path} /> : null;
  if (text === undefined) return null;
  if (kind === "json") {
    let pretty = text;
    try {
      pretty = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      // not valid JSON: show it as it is
    }
    return <pre className="artifact-text">{pretty}</pre>;
  }
  if (kind === "csv") {
    const [header = [], ...rows] = parseDelimited(text, delimiterOf(path), MAX_TABLE_ROWS + 1);
    return (
      <table className="grid csv-preview" aria-label="CSV preview">
        <thead>
          <tr>
            {header.map((name, i) => (
              <th key={i}>{name}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, r) => (
            <tr key={r}>
              {row.map((value, i) => (
                <td key={i}>{value}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    );
  }
  return <pre className="artifact-text">{text}</pre>;
}
