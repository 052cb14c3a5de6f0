import { presentImage } from "../api/present.js";
import type { ImageRecord } from "../domain/image.js";

export const EXIT = { ok: 0, failure: 1, usage: 2, partial: 3 } as const;

export type OutputFormat = "json" | "csv" | "table";

/** Flat rows for CSV and tables (JSON keeps the API's nested shape). */
const COLUMNS = [
  "id",
  "status",
  "category",
  "summary",
  "tags",
  "alt_text",
  "text",
  "taken_at",
  "camera",
  "place",
  "original_name",
  "media_type",
  "width",
  "height",
  "provider",
  "model",
  "cost_usd",
  "created_at",
] as const;

function flat(image: ImageRecord): Record<(typeof COLUMNS)[number], string> {
  const j = presentImage(image);
  return {
    id: j.id,
    status: j.status,
    category: j.category ?? "",
    summary: j.summary ?? "",
    tags: j.tags.join("; "),
    alt_text: j.alt_text ?? "",
    text: j.text ?? "",
    taken_at: j.taken_at ?? "",
    camera: j.camera ?? "",
    place: j.place ?? "",
    original_name: j.original_name,
    media_type: j.media_type,
    width: String(j.width),
    height: String(j.height),
    provider: j.analysis?.provider ?? "",
    model: j.analysis?.model ?? "",
    cost_usd: j.analysis ? String(j.analysis.cost_usd) : "",
    created_at: j.created_at,
  };
}

/** RFC 4180 quoting, and a leading apostrophe so spreadsheet apps never run model text as a formula. */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvHeader(): string {
  return COLUMNS.join(",");
}

export function csvRow(image: ImageRecord): string {
  const row = flat(image);
  return COLUMNS.map((c) => csvCell(row[c])).join(",");
}

export function jsonLine(image: ImageRecord): string {
  return JSON.stringify(presentImage(image));
}

export function tableRow(image: ImageRecord): string {
  const row = flat(image);
  const summary = row.summary.replace(/\s+/g, " ");
  return [row.id, row.status.padEnd(7), (row.category || "-").padEnd(12), summary.slice(0, 80)].join("  ");
}

export function formatImages(images: ImageRecord[], format: OutputFormat): string[] {
  if (format === "json") return images.map(jsonLine);
  if (format === "csv") return [csvHeader(), ...images.map(csvRow)];
  return images.map(tableRow);
}

export function parseFormat(value: string | undefined, fallback: OutputFormat): OutputFormat {
  const f = (value ?? fallback).toLowerCase();
  if (f === "json" || f === "csv" || f === "table") return f;
  throw new Error(`--format must be json, csv or table (got "${value}")`);
}
