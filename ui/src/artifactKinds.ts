// How the artifact browser previews a file, by its name. HTML and SVG are never shown:
// they could run script on the app's origin, so they (and unknown kinds) are downloads.

// Parquet files and model manifests are read on the server (only what the view needs).
export type PreviewKind = "image" | "text" | "json" | "csv" | "parquet" | "model" | "none";

const IMAGE_TYPES: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  bmp: "image/bmp",
};
const TEXT = new Set(["txt", "log", "md", "py", "yaml", "yml", "toml", "cfg", "ini", "sh", "r", "sql", "requirements"]);
const TEXT_NAMES = new Set(["requirements.txt", "conda.yaml", "python_env.yaml"]);
export const MODEL_MANIFESTS = new Set(["heron-model.yaml", "MLmodel"]);

/** Larger files are only offered as downloads: the preview holds the whole file in memory. */
export const MAX_PREVIEW_BYTES = 5 * 1024 * 1024;

function extension(path: string): string {
  const name = path.split("/").pop() ?? "";
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
}

export function previewKind(path: string): PreviewKind {
  const ext = extension(path);
  if (MODEL_MANIFESTS.has(path.split("/").pop() ?? "")) return "model";
  if (ext === "parquet" || ext === "pq") return "parquet";
  if (ext in IMAGE_TYPES) return "image";
  if (ext === "json") return "json";
  if (ext === "csv" || ext === "tsv") return "csv";
  if (TEXT.has(ext) || TEXT_NAMES.has(path.split("/").pop() ?? "")) return "text";
  return "none";
}

export function imageType(path: string): string {
  return IMAGE_TYPES[extension(path)] ?? "application/octet-stream";
}

/** CSV (or TSV) rows: quoted fields with doubled quotes, as RFC 4180 writes them. */
export function parseDelimited(text: string, delimiter: string, maxRows: number): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length && rows.length < maxRows; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"' && field === "") quoted = true;
    else if (char === delimiter) {
      row.push(field);
      field = "";
    } else if (char === "\n" || char === "\r") {
      if (char === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += char;
  }
  if ((field !== "" || row.length > 0) && rows.length < maxRows) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

export function delimiterOf(path: string): string {
  return extension(path) === "tsv" ? "\t" : ",";
}
