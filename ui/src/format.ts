import { toNumber, type Num } from "./api";

export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "";
  const date = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

export function formatDuration(start: number, end: number | null | undefined): string {
  if (end === null || end === undefined) return "";
  let seconds = Math.max(0, Math.round((end - start) / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  seconds %= 60;
  if (minutes < 60) return `${minutes}m ${seconds}s`;
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

export function formatNumber(value: Num | undefined): string {
  const number = toNumber(value);
  if (number === undefined) return "";
  if (!Number.isFinite(number)) return String(number);
  if (Number.isInteger(number)) return String(number);
  const abs = Math.abs(number);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e6)) return number.toExponential(4);
  return String(Number(number.toPrecision(6)));
}

export function formatBytes(size: number | null): string {
  if (size === null) return "";
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KiB`;
  return `${(size / 1024 / 1024).toFixed(1)} MiB`;
}

/** A key as the search language writes it: bare when it can be, else in backticks. */
export function searchKey(prefix: string, key: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_.]*$/.test(key)) return `${prefix}.${key}`;
  return `${prefix}.\`${key.replace(/\\/g, "\\\\").replace(/`/g, "\\`")}\``;
}

/** A string literal of the search language. */
export function quoteLiteral(text: string): string {
  return `'${text.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}
