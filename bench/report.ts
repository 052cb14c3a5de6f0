import pLimit from "p-limit";

/** One line of the printed table. */
export interface Row {
  area: string;
  measure: string;
  value: string;
  target?: string;
  /** Whether the target is met; undefined when there is no target or nothing was measured. */
  ok?: boolean;
}

export interface Section<T> {
  results: T;
  rows: Row[];
}

export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Nearest-rank percentile (p in 0-100) of unsorted values: the one helper of bench/, scripts/ and test/. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

/** Runs `work` over `items` with at most `concurrency` at once. */
export async function pool<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  await pLimit(concurrency).map(items, work);
}

export function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

export function formatTable(rows: readonly Row[]): string {
  const header: Row = { area: "area", measure: "measure", value: "value", target: "target" };
  const verdict = (r: Row) => (r === header ? "ok?" : r.ok === undefined ? "" : r.ok ? "yes" : "NO");
  const all = [header, ...rows];
  const widths = {
    area: Math.max(...all.map((r) => r.area.length)),
    measure: Math.max(...all.map((r) => r.measure.length)),
    value: Math.max(...all.map((r) => r.value.length)),
    target: Math.max(...all.map((r) => (r.target ?? "").length)),
  };
  const line = (r: Row) =>
    `| ${r.area.padEnd(widths.area)} | ${r.measure.padEnd(widths.measure)} | ${r.value.padStart(widths.value)} | ${(r.target ?? "").padEnd(widths.target)} | ${verdict(r).padEnd(3)} |`;
  const rule = `|${"-".repeat(widths.area + 2)}|${"-".repeat(widths.measure + 2)}|${"-".repeat(widths.value + 2)}|${"-".repeat(widths.target + 2)}|-----|`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}
