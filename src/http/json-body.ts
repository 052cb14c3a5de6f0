import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { PhotocatError } from "../domain/errors.js";

export const JSON_BODY_LIMIT = 64 * 1024;
export const SIGN_IN_BODY_LIMIT = 4 * 1024;

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

function kilobytes(bytes: number): string {
  return `${Math.round(bytes / 1024)} KB`;
}

/**
 * Guards a route that reads a JSON body: the Content-Type must be JSON (a form or text/plain body is what a
 * cross-site page can send without asking), and the body must be small. A Content-Length over the limit is
 * refused before a byte is read; a chunked body is counted as it arrives and cut off at the limit.
 */
export function jsonBody(maxBytes: number = JSON_BODY_LIMIT): MiddlewareHandler[] {
  return [
    async (c, next) => {
      if (!JSON_TYPE.test(c.req.header("content-type") ?? "")) {
        throw new PhotocatError(
          "unsupported_media_type",
          "send the body as JSON, with the header Content-Type: application/json",
        );
      }
      await next();
    },
    bodyLimit({
      maxSize: maxBytes,
      onError: () => {
        throw new PhotocatError("payload_too_large", `the body is over the limit of ${kilobytes(maxBytes)}`);
      },
    }),
  ];
}
