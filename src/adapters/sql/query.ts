import { PhotocatError } from "../../domain/errors.js";
import { IMAGE_STATUSES, type ImageStatus } from "../../domain/image.js";
import { type ExpandedWord, type SearchTier, wordsAtTier } from "../../lexicon/search-expansion.js";
import type { SearchMatch } from "./dialect.js";

export const MAX_PAGE_SIZE = 500;
const MAX_SEARCH_TERMS = 16;
const MAX_TERM_CHARS = 64;

export interface ListCursor {
  /** The last row's sort key: its upload time, capture time or trash time, by the listing's order. */
  createdAt: string;
  id: string;
  /** Set for pages in capture-time order, so a cursor is never read in the other order. */
  taken?: boolean;
  /** A search's tier (exact, synonym, narrower) of the last row: the next page goes on from there. */
  tier?: SearchTier;
}

/** Opaque to clients: base64url of the last row's sort key. */
export function encodeCursor(cursor: ListCursor): string {
  const key: (string | number)[] = [cursor.createdAt, cursor.id];
  if (cursor.taken) key.push("taken");
  if (cursor.tier !== undefined) key.push(cursor.tier);
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

export function decodeCursor(value: string): ListCursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, "base64url").toString("utf8"));
    if (Array.isArray(parsed) && typeof parsed[0] === "string" && typeof parsed[1] === "string") {
      const [createdAt, id, ...rest] = parsed as [string, string, ...unknown[]];
      const taken = rest[0] === "taken";
      if (taken) rest.shift();
      const tier = rest.shift();
      const validTier = tier === undefined || tier === 0 || tier === 1 || tier === 2;
      if (rest.length === 0 && validTier) {
        return {
          createdAt,
          id,
          ...(taken ? { taken } : {}),
          ...(tier !== undefined ? { tier: tier as SearchTier } : {}),
        };
      }
    }
  } catch {
    // Reported below.
  }
  throw new PhotocatError("invalid_request", "cursor is invalid: pass the next_cursor of a previous page");
}

export function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new PhotocatError("invalid_request", "limit must be a whole number of at least 1");
  }
  return Math.min(limit, MAX_PAGE_SIZE);
}

export function checkStatus(status: string): ImageStatus {
  if (!(IMAGE_STATUSES as readonly string[]).includes(status)) {
    throw new PhotocatError("invalid_request", `status must be one of ${IMAGE_STATUSES.join(", ")}`);
  }
  return status as ImageStatus;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

function parseDate(value: string, name: string): Date {
  const date = new Date(DATE_ONLY.test(value) ? `${value}T00:00:00.000Z` : value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) {
    throw new PhotocatError("invalid_request", `${name} must be a date such as 2024-05-01 or an ISO time`);
  }
  return date;
}

/** Inclusive lower bound as UTC ISO text. */
export function fromBound(value: string): string {
  return parseDate(value, "from").toISOString();
}

/** Exclusive upper bound as UTC ISO text: a plain date includes that whole day. */
export function toBoundExclusive(value: string): string {
  const date = parseDate(value, "to");
  const extraMs = DATE_ONLY.test(value.trim()) ? 86_400_000 : 1;
  return new Date(date.getTime() + extraMs).toISOString();
}

/**
 * Capture times keep what the camera said; for sorting and filtering they become UTC ISO text
 * (a time without zone is read as UTC). Unparseable values fall back to the upload time.
 */
export function normaliseCaptureTime(takenAt: string | null, createdAt: string): string {
  if (takenAt) {
    const zoned = /(Z|[+-]\d{2}:?\d{2})$/i.test(takenAt) ? takenAt : `${takenAt}Z`;
    const date = new Date(zoned);
    if (!Number.isNaN(date.getTime())) return date.toISOString();
  }
  return createdAt;
}

/**
 * The words of a user's search, lower-cased: letters, digits and marks only, so no query syntax of
 * FTS5 or tsquery can get through. Empty when the text holds no word (then nothing matches).
 */
export function searchTerms(q: string): string[] {
  const words =
    q
      .normalize("NFKC")
      .toLowerCase()
      .match(/[\p{L}\p{N}\p{M}]+/gu) ?? [];
  return words.slice(0, MAX_SEARCH_TERMS).map((w) => w.slice(0, MAX_TERM_CHARS));
}

/** A word or phrase of a search as the indexes split it: letters, digits and marks ("kitty-cat" -> kitty cat). */
export function phraseTokens(words: string): string[] {
  return (
    words
      .normalize("NFKC")
      .toLowerCase()
      .match(/[\p{L}\p{N}\p{M}]+/gu) ?? []
  );
}

/** One way a search word may appear in a photo's words: a word or phrase, the typed word also as a prefix. */
export interface SearchAlternative {
  tokens: string[];
  prefix: boolean;
}

function alternativesAt(word: ExpandedWord, tier: SearchTier): SearchAlternative[] {
  const seen = new Set<string>();
  const out: SearchAlternative[] = [];
  for (const words of wordsAtTier(word, tier)) {
    const tokens = phraseTokens(words);
    const key = tokens.join(" ");
    if (tokens.length === 0 || seen.has(key)) continue;
    seen.add(key);
    out.push({ tokens, prefix: word.prefix && words === word.word && tokens.length === 1 });
  }
  return out;
}

/**
 * A search as groups of alternatives, every group required: `include` at the search's tier, and `exclude`
 * (when only what is new at the tier is wanted) at the tier before.
 */
export function searchGroups(search: SearchMatch): {
  include: SearchAlternative[][];
  exclude: SearchAlternative[][] | null;
} {
  const at = (tier: SearchTier) => search.words.map((w) => alternativesAt(w, tier));
  return {
    include: at(search.tier),
    exclude: search.onlyNew && search.tier > 0 ? at((search.tier - 1) as SearchTier) : null,
  };
}

/** Whether a tier finds anything the tier before does not (some word has words of that tier). */
export function tierAddsWords(words: readonly ExpandedWord[], tier: SearchTier): boolean {
  if (tier === 0) return true;
  return words.some((w) => (tier === 1 ? w.synonyms : w.narrower).length > 0);
}
