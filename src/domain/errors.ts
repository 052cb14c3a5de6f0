/**
 * Every failure a user can meet has a stable machine code, a readable message and an HTTP status.
 * Adapters and services throw these; the HTTP layer and CLI turn them into `{"error":{"code","message"}}`.
 */
export type ErrorCode =
  | "unsupported_media_type"
  | "corrupt_image"
  | "image_too_large"
  | "file_too_large"
  | "payload_too_large"
  | "empty_file"
  | "not_found"
  | "invalid_request"
  | "unauthorized"
  | "forbidden"
  | "too_many_requests"
  | "conflict"
  | "in_trash"
  | "analyser_failed"
  | "analyser_output_invalid"
  | "embedder_failed"
  | "request_timeout"
  | "storage_full"
  | "storage_unavailable"
  | "configuration"
  | "busy"
  | "writer_unavailable"
  | "cannot_embed"
  | "not_implemented"
  | "internal";

const statusByCode: Record<ErrorCode, number> = {
  unsupported_media_type: 415,
  corrupt_image: 422,
  image_too_large: 422,
  file_too_large: 413,
  payload_too_large: 413,
  empty_file: 422,
  not_found: 404,
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  too_many_requests: 429,
  conflict: 409,
  in_trash: 409,
  analyser_failed: 502,
  analyser_output_invalid: 502,
  embedder_failed: 502,
  request_timeout: 408,
  storage_full: 507,
  storage_unavailable: 503,
  configuration: 500,
  busy: 503,
  writer_unavailable: 503,
  cannot_embed: 422,
  not_implemented: 501,
  internal: 500,
};

export class PhotocatError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Whether trying the same operation again later may succeed (provider outage, rate limit). */
  readonly retryable: boolean;
  /** When to try again, for answers such as 503 busy (sent as Retry-After). */
  readonly retryAfterS: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; retryable?: boolean; retryAfterS?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "PhotocatError";
    this.code = code;
    this.status = statusByCode[code];
    this.retryable = options.retryable ?? options.retryAfterS !== undefined;
    this.retryAfterS = options.retryAfterS;
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** A setting is missing or wrong: the message names the setting, the process refuses to start. */
export class ConfigurationError extends PhotocatError {
  constructor(message: string) {
    super("configuration", message);
    this.name = "ConfigurationError";
  }
}

export function isPhotocatError(error: unknown): error is PhotocatError {
  return error instanceof PhotocatError;
}

/** Turns anything thrown into a safe message (no stack traces for users). */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Errno and database codes that mean "no space left"; the disk, a quota, SQLite or PostgreSQL. */
const FULL_CODES = new Set(["ENOSPC", "EDQUOT", "SQLITE_FULL", "53100"]);
/** Codes that mean "storage refuses writes": read-only mounts, lost permissions, read-only databases. */
const UNWRITABLE_CODES = new Set([
  "EROFS",
  "EACCES",
  "EPERM",
  "SQLITE_READONLY",
  "SQLITE_CANTOPEN",
  "SQLITE_IOERR",
  "25006",
]);

function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  for (let e = error, depth = 0; e && typeof e === "object" && depth < 8; depth++) {
    const code = (e as { code?: unknown }).code;
    // SQLite's extended codes (SQLITE_READONLY_DBMOVED, SQLITE_IOERR_WRITE...) name their family first.
    if (typeof code === "string") codes.push(code.replace(/^(SQLITE_[A-Z]+)_.*$/, "$1"));
    e = (e as { cause?: unknown }).cause;
  }
  return codes;
}

/**
 * Names a storage failure for people: a full disk answers 507 and says how to free space, an unwritable
 * one 503. Null when the error is not about storage. `action` says what could not be done ("store the upload").
 */
export function storageFailure(error: unknown, action: string): PhotocatError | null {
  const codes = errorCodes(error);
  if (codes.some((c) => FULL_CODES.has(c))) {
    return new PhotocatError(
      "storage_full",
      `storage full: could not ${action}. Free space (delete photos or empty the trash) and try again`,
      { cause: error, retryable: true },
    );
  }
  const unwritable = codes.find((c) => UNWRITABLE_CODES.has(c));
  if (unwritable) {
    return new PhotocatError(
      "storage_unavailable",
      `storage not writable (${unwritable}): could not ${action}`,
      { cause: error, retryable: true },
    );
  }
  return null;
}

/** Any thrown value as a PhotocatError: ours as they are, storage failures named, the rest internal. */
export function asPhotocatError(error: unknown, action = "complete the request"): PhotocatError {
  if (isPhotocatError(error)) return error;
  return (
    storageFailure(error, action) ??
    new PhotocatError("internal", `could not ${action}: ${errorMessage(error)}`, { cause: error })
  );
}
