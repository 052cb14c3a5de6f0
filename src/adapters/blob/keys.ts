import { PhotocatError } from "../../domain/errors.js";
import { MEDIA_TYPES } from "../../domain/image.js";

const MAX_KEY_CHARS = 1024;

/** Content types by extension: keys carry the extension of what they hold (originals, thumbnails). */
const CONTENT_TYPES: Record<string, string> = {
  ...Object.fromEntries(
    Object.entries(MEDIA_TYPES).flatMap(([type, { extension, aliases }]) =>
      [extension, ...aliases].map((name) => [name, type]),
    ),
  ),
  json: "application/json",
  xmp: "application/rdf+xml",
};

export function contentTypeForKey(key: string): string {
  const extension = key.slice(key.lastIndexOf(".") + 1).toLowerCase();
  return CONTENT_TYPES[extension] ?? "application/octet-stream";
}

function invalid(key: unknown, why: string): PhotocatError {
  return new PhotocatError("invalid_request", `invalid storage key ${JSON.stringify(key)}: ${why}`);
}

/**
 * Keys are relative paths of plain segments. Anything that could leave the store's root or name
 * something other than an object is refused: absolute paths, "..", ".", empty segments, backslashes,
 * NUL, and names the store reserves for its own temporary files.
 */
export function checkKey(key: string, reservedPrefix: string, options: { prefix?: boolean } = {}): string {
  if (typeof key !== "string") throw invalid(key, "not a string");
  if (key === "" && options.prefix) return key;
  if (key === "") throw invalid(key, "empty");
  if (key.length > MAX_KEY_CHARS) throw invalid(key.slice(0, 40), `longer than ${MAX_KEY_CHARS} characters`);
  if (key.includes("\0")) throw invalid(key, "contains NUL");
  if (key.includes("\\")) throw invalid(key, "contains a backslash");
  if (key.startsWith("/") || /^[a-z]:/i.test(key)) throw invalid(key, "absolute path");
  const segments = key.split("/");
  // A prefix may end with "/" (a folder) or with part of a name.
  if (options.prefix && segments.at(-1) === "") segments.pop();
  for (const segment of segments) {
    if (segment === "") throw invalid(key, "empty path segment");
    if (segment === "." || segment === "..") throw invalid(key, `"${segment}" segment`);
    if (segment.startsWith(reservedPrefix)) throw invalid(key, "reserved name");
  }
  return key;
}
