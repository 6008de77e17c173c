// Axes for plots across runs (scatter, parallel coordinates): a column's values mapped to
// [0, 1]. Numeric when every value is a number (metrics, and params such as "0.01"), else
// one evenly spaced position per distinct value. Pure: no React, no DOM.

import { formatNumber } from "./format";

export interface Axis {
  label: string;
  numeric: boolean;
  /** Where a value sits on the axis, 0 (start) to 1 (end); undefined when it has none. */
  position: (value: string | number | undefined) => number | undefined;
  ticks: { at: number; text: string }[];
}

function asNumber(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (value.trim() === "") return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}

export function buildAxis(label: string, values: (string | number | undefined)[]): Axis {
  const present = values.filter((value): value is string | number => value !== undefined);
  const numbers = present.map(asNumber);
  if (present.length > 0 && numbers.every((n) => n !== undefined)) {
    const finite = numbers as number[];
    let low = Math.min(...finite);
    let high = Math.max(...finite);
    if (low === high) {
      const pad = Math.abs(low) * 0.1 || 1;
      low -= pad;
      high += pad;
    }
    const span = high - low;
    return {
      label,
      numeric: true,
      position: (value) => {
        const number = value === undefined ? undefined : asNumber(value);
        return number === undefined ? undefined : (number - low) / span;
      },
      ticks: [0, 0.25, 0.5, 0.75, 1].map((at) => ({ at, text: formatNumber(low + at * span) })),
    };
  }
  const categories = [...new Set(present.map(String))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  const index = new Map(categories.map((category, i) => [category, i]));
  const slot = (i: number) => (i + 0.5) / Math.max(1, categories.length);
  // Hundreds of labels would overlap: show about 12, evenly picked.
  const every = Math.max(1, Math.ceil(categories.length / 12));
  return {
    label,
    numeric: false,
    position: (value) => {
      const i = value === undefined ? undefined : index.get(String(value));
      return i === undefined ? undefined : slot(i);
    },
    ticks: categories.flatMap((text, i) => (i % every === 0 ? [{ at: slot(i), text }] : [])),
  };
}

/** A colour for a value at ``t`` in [0, 1] (blue for low, red for high). */
export function rampColor(t: number): string {
  const clamped = Math.min(1, Math.max(0, t));
  return `hsl(${Math.round(230 - 230 * clamped)}, 70%, 45%)`;
}
