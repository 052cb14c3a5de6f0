/**
 * Every failure a user can meet has a stable machine code, a readable message and an HTTP status.
 * Adapters and services throw these; the HTTP layer and CLI turn them into `{"error":{"code","message"}}`.
 */
export type ErrorCode =
  | "unsupported_media_type"
  | "corrupt_image"
  | "image_too_large"
  | "file_too_large"
  | "empty_file"
  | "not_found"
  | "invalid_request"
  | "unauthorized"
  | "conflict"
  | "analyser_failed"
  | "analyser_output_invalid"
  | "configuration"
  | "busy"
  | "internal";

const statusByCode: Record<ErrorCode, number> = {
  unsupported_media_type: 415,
  corrupt_image: 422,
  image_too_large: 422,
  file_too_large: 413,
  empty_file: 422,
  not_found: 404,
  invalid_request: 400,
  unauthorized: 401,
  conflict: 409,
  analyser_failed: 502,
  analyser_output_invalid: 502,
  configuration: 500,
  busy: 503,
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
