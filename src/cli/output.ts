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

/** Cuts text to at most `max` characters at a word boundary, marking the cut with an ellipsis. */
export function truncateWords(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(" ");
  // A single very long word is cut inside it rather than dropped.
  const kept = space > max / 2 ? cut.slice(0, space) : cut;
  return `${kept.replace(/[\s,;:.-]+$/, "")}…`;
}

/** Short ids, as git shows them; `show` and the other commands take any unique prefix. */
export const SHORT_ID_LENGTH = 8;
const TABLE = [
  { title: "ID", width: SHORT_ID_LENGTH },
  { title: "STATUS", width: 7 },
  { title: "CATEGORY", width: 12 },
] as const;

function summaryWidth(columns: number): number {
  const used = TABLE.reduce((n, c) => n + c.width + 2, 0);
  return Math.max(20, columns - used);
}

export function tableHeader(): string {
  return [...TABLE.map((c) => c.title.padEnd(c.width)), "SUMMARY"].join("  ");
}

export function tableRow(image: ImageRecord, columns = 100): string {
  const row = flat(image);
  const summary = truncateWords(row.summary.replace(/\s+/g, " ").trim(), summaryWidth(columns));
  return [
    row.id.slice(0, SHORT_ID_LENGTH),
    row.status.padEnd(TABLE[1].width),
    (row.category || "-").padEnd(TABLE[2].width),
    summary || "-",
  ].join("  ");
}

/** The lines to print; a table fits `columns` (the terminal's width) and starts with a header row. */
export function formatImages(images: ImageRecord[], format: OutputFormat, columns = 100): string[] {
  if (format === "json") return images.map(jsonLine);
  if (format === "csv") return [csvHeader(), ...images.map(csvRow)];
  if (images.length === 0) return [];
  return [tableHeader(), ...images.map((image) => tableRow(image, columns))];
}
