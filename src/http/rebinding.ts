import type { MiddlewareHandler } from "hono";
import { isExposed } from "../config.js";
import { PhotocatError } from "../domain/errors.js";
import type { Logger } from "../logger.js";

/** The host part of a Host header: "127.0.0.1:3000" -> "127.0.0.1", "[::1]:3000" -> "::1". */
function hostName(header: string): string {
  const host = header.trim().toLowerCase();
  if (host.startsWith("[")) return host.slice(1, host.indexOf("]"));
  return host.replace(/:\d+$/, "");
}

/**
 * A server without a password trusts whoever can reach it, which is only this machine: but a web page can
 * reach it too, by pointing its own domain at 127.0.0.1 (DNS rebinding); the browser then sends that domain
 * as Host, and as Origin, so the cross-site check sees "the same site". Such a server answers only requests
 * addressed to a loopback name. With a password or tokens, the attacker's page has no credentials to use.
 */
export function rebindingProtection(settings: { authRequired: boolean; logger: Logger }): MiddlewareHandler {
  return async (c, next) => {
    if (settings.authRequired) return next();
    const header = c.req.header("host");
    if (header === undefined || !isExposed(hostName(header))) return next();
    settings.logger.warn({ host: header, path: c.req.path }, "refused a request for another host name");
    throw new PhotocatError(
      "forbidden",
      `this server has no password and answers only requests for localhost, not "${header.slice(0, 100)}"; ` +
        "set PHOTOCAT_PASSWORD to serve it under another name",
    );
  };
}
