import { thumbHashToDataURL } from "thumbhash";
import type { Photo } from "./types.js";

export function categoryLabel(slug: string | null | undefined): string {
  if (!slug) return "Uncategorised";
  const words = slug.replace(/[-_]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The default categories in palette order, each its own colour, chosen to tell neighbours apart (styles.css). */
const CATEGORY_COLOURS = new Map(
  [
    "people",
    "animals",
    "food",
    "vehicles",
    "nature",
    "architecture",
    "objects",
    "documents",
    "art",
    "other",
  ].map((slug, index) => [slug, index]),
);
const PALETTE_SIZE = 10;

/** A stable colour per category (a CSS value), so each chip's dot and bar keep it everywhere. */
export function categoryColour(slug: string | null | undefined): string {
  let index = CATEGORY_COLOURS.get(slug ?? "other");
  if (index === undefined) {
    // A category of a custom taxonomy: a stable pick from the same palette.
    let hash = 7;
    for (const char of slug ?? "") hash = (hash * 31 + char.charCodeAt(0)) % 9973;
    index = hash % PALETTE_SIZE;
  }
  return `var(--category-${index})`;
}

const pluralRules = new Intl.PluralRules("en");

/** "1 photo", "2 photos", "1,234 photos": the count formatted, the noun in the right number; a suffix
 * ("100+ photos") always takes the plural. */
export function plural(count: number, one: string, other: string, suffix = ""): string {
  return `${formatCount(count)}${suffix} ${pluralRules.select(count) === "one" && !suffix ? one : other}`;
}

export function isPending(photo: Photo): boolean {
  return photo.status === "queued" || photo.status === "running";
}

export function altFor(photo: Photo): string {
  if (photo.alt_text) return photo.alt_text;
  if (photo.summary) return photo.summary;
  return isPending(photo) ? `${photo.original_name}, not described yet` : photo.original_name;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

export function formatDate(iso: string | null | undefined, withTime = true): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return (withTime ? dateTime : dateOnly).format(date);
}

// The server's own wording for formats and sizes (src/domain/image.ts has no runtime dependencies).
export { formatBytes, formatLabel } from "../../src/domain/image.js";

export function formatUsd(value: number | null | undefined): string {
  if (value === null || value === undefined) return "–";
  if (value === 0) return "$0.00";
  if (value < 0.01) return `$${value.toFixed(value < 0.0001 ? 6 : 4)}`;
  return `$${value.toFixed(2)}`;
}

const integer = new Intl.NumberFormat();
export const formatCount = (value: number | null | undefined): string => integer.format(value ?? 0);

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "–";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

const placeholderCache = new Map<string, string>();

/** The thumbhash as a tiny PNG data URL, cached: decoding costs ~0.1 ms, and cards re-render while scrolling. */
export function placeholderUrl(thumbhash: string | null): string | null {
  if (!thumbhash) return null;
  const cached = placeholderCache.get(thumbhash);
  if (cached) return cached;
  try {
    const bytes = Uint8Array.from(atob(thumbhash), (c) => c.charCodeAt(0));
    const url = thumbHashToDataURL(bytes);
    if (placeholderCache.size > 3000) placeholderCache.clear();
    placeholderCache.set(thumbhash, url);
    return url;
  } catch {
    return null;
  }
}
