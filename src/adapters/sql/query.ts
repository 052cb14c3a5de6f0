import { PhotocatError } from "../../domain/errors.js";
import { IMAGE_STATUSES, type ImageStatus } from "../../domain/image.js";

export const MAX_PAGE_SIZE = 500;
const MAX_SEARCH_TERMS = 16;
const MAX_TERM_CHARS = 64;

export interface ListCursor {
  /** The last row's sort key: its upload time, capture time or trash time, by the listing's order. */
  createdAt: string;
  id: string;
  /** Set for pages in capture-time order, so a cursor is never read in the other order. */
  taken?: boolean;
}

/** Opaque to clients: base64url of the last row's sort key. */
export function encodeCursor(cursor: ListCursor): string {
  const key = cursor.taken ? [cursor.createdAt, cursor.id, "taken"] : [cursor.createdAt, cursor.id];
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

export function decodeCursor(value: string): ListCursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, "base64url").toString("utf8"));
    if (
      Array.isArray(parsed) &&
      (parsed.length === 2 || (parsed.length === 3 && parsed[2] === "taken")) &&
      typeof parsed[0] === "string" &&
      typeof parsed[1] === "string"
    ) {
      return { createdAt: parsed[0], id: parsed[1], ...(parsed.length === 3 ? { taken: true } : {}) };
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
